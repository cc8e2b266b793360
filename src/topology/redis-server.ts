/**
 * A real redis-server child process on 127.0.0.1, in a temp dir of its own.
 *
 * Used by the local topology, by store faults (restart with or without AOF) and by every
 * integration test: the store path is always tested against the real thing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { accessSync, constants } from 'node:fs';
import { EnvironmentError } from '../base/errors.ts';
import { freePort } from './ports.ts';

export interface RedisServerOptions {
  /** Append-only file with fsync every write, so acknowledged writes survive a restart. Default false. */
  aof?: boolean;
  /** Extra `--name value` config, e.g. `{ maxmemory: '10mb' }`. */
  config?: Record<string, string>;
  /** Port to listen on; default an ephemeral one. */
  port?: number;
  /** How long to wait for PING to answer, in ms. Default 10 000. */
  readyTimeoutMs?: number;
  /** Reuse this dir (e.g. to restart on the same AOF); default a new temp dir, removed on stop. */
  dir?: string;
  /** Which server speaks the protocol: redis-server (default) or valkey-server, with the same config. */
  flavor?: RedisFlavor;
}

export type RedisFlavor = 'redis' | 'valkey';

const FLAVORS: Record<RedisFlavor, { binary: string; env: string; install: string }> = {
  redis: { binary: 'redis-server', env: 'STATEPROOF_REDIS_SERVER', install: '`sudo apt-get install -y redis-server`' },
  // Debian 12 has Valkey only in bookworm-backports; bin/setup.sh adds that suite.
  valkey: { binary: 'valkey-server', env: 'STATEPROOF_VALKEY_SERVER', install: '`sudo apt-get install -y -t bookworm-backports valkey-server` (bin/setup.sh adds bookworm-backports)' },
};

export interface RedisServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  readonly aof: boolean;
  /** Graceful stop (SIGTERM, then SIGKILL after 5 s). Removes the temp dir unless `keepDir`. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
  /** kill -9: the process gets no chance to flush. */
  kill9(): Promise<void>;
  /**
   * Stop (kill -9 when `hard`) and start again on the same port and dir. Without AOF nothing
   * survives (snapshots are off), which is the point of the comparison.
   */
  restart(opts?: { hard?: boolean }): Promise<void>;
  /** The last lines redis-server logged, for error messages. */
  logTail(): string;
}

export function redisServerBinary(flavor: RedisFlavor = 'redis'): string {
  const f = FLAVORS[flavor];
  const fromEnv = process.env[f.env];
  const candidates = fromEnv ? [fromEnv] : [...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, f.binary)), `/usr/bin/${f.binary}`, `/usr/local/bin/${f.binary}`];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* try the next */
    }
  }
  throw new EnvironmentError(
    fromEnv
      ? `${f.env}=${fromEnv} is not an executable ${f.binary}. Install it (Debian/Ubuntu: ${f.install}), or point ${f.env} at it.`
      : `${f.binary} was not found on PATH. Install it (Debian/Ubuntu: ${f.install}) or set ${f.env} to its path.`,
  );
}

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const flavor = opts.flavor ?? 'redis';
  const binary = redisServerBinary(flavor);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'stateproof-redis-')));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const aof = opts.aof ?? false;
  let port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let log: string[] = [];

  const args = (): string[] => {
    const base: Record<string, string> = {
      port: String(port),
      bind: '127.0.0.1',
      dir,
      save: '',
      appendonly: aof ? 'yes' : 'no',
      appendfsync: 'always',
      daemonize: 'no',
      'protected-mode': 'no',
      'enable-debug-command': 'local',
      logfile: '',
      ...opts.config,
    };
    return Object.entries(base).flatMap(([k, v]) => [`--${k}`, v]);
  };

  const launch = async (): Promise<void> => {
    log = [];
    // Its own process group: a terminal's Ctrl-C reaches the harness alone, which still needs the
    // store to read the witnesses and then stops it (cleanup.ts kills it if the harness dies).
    const c = spawn(binary, args(), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = c;
    const keep = (chunk: Buffer) => {
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (log.length > 50) log = log.slice(-50);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      const early = await Promise.race([exited, sleep(0).then(() => undefined)]);
      if (early !== undefined) {
        throw new EnvironmentError(`${FLAVORS[flavor].binary} exited with code ${early} before it was ready on port ${port}. Its log:\n${log.slice(-10).join('\n')}`);
      }
      if (await pingOnce('127.0.0.1', port, 500)) return;
      await sleep(25);
    }
    c.kill('SIGKILL');
    throw new EnvironmentError(`${FLAVORS[flavor].binary} did not answer PING on 127.0.0.1:${port} within ${readyTimeoutMs} ms. Its log:\n${log.slice(-10).join('\n')}`);
  };

  // The free port may be taken between our probe and redis binding it: retry a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      const addrInUse = log.some((l) => l.includes('Address already in use'));
      if (!addrInUse || attempt >= 4 || opts.port !== undefined) {
        if (ownDir) await rm(dir, { recursive: true, force: true });
        throw e;
      }
      port = await freePort();
    }
  }

  const waitExit = (c: ChildProcess, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      c.once('exit', () => {
        clearTimeout(t);
        resolve(true);
      });
    });

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    // A SIGSTOPped server ignores SIGTERM until continued.
    c.kill('SIGCONT');
    c.kill(signal);
    if (!(await waitExit(c, 5_000))) {
      c.kill('SIGKILL');
      await waitExit(c, 5_000);
    }
  };

  let stopped = false;
  const handle: RedisServer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    aof,
    async stop(o) {
      if (stopped) return;
      stopped = true;
      await halt('SIGTERM');
      if (ownDir && !o?.keepDir) await rm(dir, { recursive: true, force: true });
    },
    async kill9() {
      await halt('SIGKILL');
    },
    async restart(o) {
      await halt(o?.hard ? 'SIGKILL' : 'SIGTERM');
      await launch();
      // Running again after a stop({ keepDir }): the next stop must stop it (it was a no-op, and
      // the server outlived its test).
      stopped = false;
    },
    logTail: () => log.slice(-10).join('\n'),
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One RESP PING over a fresh socket; true on +PONG (or -LOADING, which means it is up but loading). */
export function pingOnce(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}
