/**
 * The proxies' data path in worker processes (`dataWorkers` in startToxiproxyServer, default 0;
 * `stateproof proxy --workers N`, default 2). The API, the listeners and the toxic collections stay in the
 * server's process; each accepted client (still paused) is handed to a worker, round robin, and
 * the worker joins it to its upstream and runs its links (./data-worker.ts).
 *
 *   client ─accept─> server process ─IPC handle─> worker k: client <─> links <─> upstream
 *   API change ─> ToxicCollection ─post─> every worker's mirror of that proxy's chains
 *
 * Why: a busy shared machine schedules one event loop as one thread; two processes get two
 * (`npm run bench proxy` at load 10-12 on 2 cores: 2 workers 1.22x the in-process path and 1.10x
 * a real Toxiproxy 2.12.0, medians of 8 paired rounds). On idle cores the in-process path is
 * already as fast; the workers cost a second or so of start-up.
 *
 * Every change is posted to every worker, in order, on its IPC channel; the API answers only
 * after `sync()`, a round trip to each worker, so after the answer every connection's next chunk
 * meets the new toxics, as in the in-process path. A worker exits when its channel closes, so a
 * kill -9 of the server leaves no worker behind.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WireToxic, ToxicChange } from './toxic-collection.ts';
import type { Direction } from './link.ts';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data-worker.mjs');
const READY_TIMEOUT_MS = 20_000;
/** A worker that does not answer a sync in this time is not waited for (the API must not hang). */
const SYNC_TIMEOUT_MS = 5_000;

export type ToWorker =
  | { t: 'conn'; proxy: string; upstream: string; seed: number }
  | (ToxicChange & { proxy: string })
  | { t: 'stop'; proxy: string }
  | { t: 'sync'; id: number };

export type FromWorker = { t: 'ready' } | { t: 'synced'; id: number } | { t: 'closed'; proxy: string };

export type { WireToxic, Direction };

export class DataWorkers {
  private next = 0;
  private syncId = 0;
  private readonly waiting = new Map<number, { left: number; done: () => void }>();
  /** Per worker (its clients die with it), per proxy: clients handed over and not yet closed. */
  private readonly open = new Map<ChildProcess, Map<string, number>>();
  private closing = false;

  private constructor(private readonly workers: ChildProcess[]) {
    for (const w of workers) {
      this.open.set(w, new Map());
      w.on('message', (m: FromWorker) => this.onMessage(w, m));
      w.on('exit', () => {
        this.open.delete(w);
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers.splice(i, 1);
        // Its connections died with it; syncs must not wait for it.
        for (const [id, s] of this.waiting) if (--s.left <= 0) this.finish(id);
      });
    }
  }

  static async start(count: number): Promise<DataWorkers> {
    const workers = Array.from({ length: count }, () => fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' }));
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`a proxy data worker did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
              w.once('message', () => (clearTimeout(timer), resolve()));
              w.once('exit', (code) => (clearTimeout(timer), reject(new Error(`a proxy data worker exited with ${code} while starting`))));
            }),
        ),
      );
    } catch (e) {
      for (const w of workers) w.kill('SIGKILL');
      throw e;
    }
    return new DataWorkers(workers);
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid!).filter(Boolean);
  }

  /** Hands a paused, accepted client to the next worker; it is closed here once sent. */
  handOff(client: net.Socket, proxy: string, upstream: string, seed: number): void {
    const w = this.workers[this.next++ % Math.max(1, this.workers.length)];
    if (!w || !w.connected) {
      client.destroy();
      return;
    }
    const msg: ToWorker = { t: 'conn', proxy, upstream, seed };
    this.count(w, proxy, +1);
    w.send(msg, client, (e) => {
      if (!e) return;
      client.destroy();
      this.count(w, proxy, -1);
    });
  }

  post(msg: ToWorker): void {
    for (const w of this.workers) if (w.connected) w.send(msg);
  }

  /** Resolves when every worker has applied everything posted before it. */
  sync(): Promise<void> {
    const live = this.workers.filter((w) => w.connected);
    if (live.length === 0) return Promise.resolve();
    const id = ++this.syncId;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.finish(id), SYNC_TIMEOUT_MS);
      this.waiting.set(id, { left: live.length, done: () => (clearTimeout(timer), resolve()) });
      const msg: ToWorker = { t: 'sync', id };
      for (const w of live) w.send(msg);
    });
  }

  /** Clients handed to workers and not yet closed there. */
  openConnections(proxy: string): number {
    let n = 0;
    for (const byProxy of this.open.values()) n += byProxy.get(proxy) ?? 0;
    return n;
  }

  private count(w: ChildProcess, proxy: string, by: number): void {
    const byProxy = this.open.get(w);
    if (byProxy) byProxy.set(proxy, (byProxy.get(proxy) ?? 0) + by);
  }

  private onMessage(w: ChildProcess, m: FromWorker): void {
    if (m.t === 'synced') {
      const s = this.waiting.get(m.id);
      if (s && --s.left <= 0) this.finish(m.id);
    } else if (m.t === 'closed') {
      this.count(w, m.proxy, -1);
    }
  }

  private finish(id: number): void {
    const s = this.waiting.get(id);
    this.waiting.delete(id);
    s?.done();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(
      [...this.workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            w.once('exit', () => resolve());
            w.kill('SIGTERM');
            setTimeout(() => w.kill('SIGKILL'), 2_000).unref();
          }),
      ),
    );
  }
}
