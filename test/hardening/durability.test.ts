/**
 * Durability and cleanup under process faults, and resource limits:
 *   - kill -9 of a service instance in the middle of concurrent writes: every acknowledged turn is in
 *     the store, every stored session parses and keeps its own invariants, and replaying the writes
 *     whose outcome was unknown against a fresh instance applies each at most once;
 *   - kill -9 of the harness itself under load: the next startTopology finds the dead run's file,
 *     kills what it left running, removes its temp dir, and says so;
 *   - the service bounds requests in flight (503 overloaded + Retry-After, at once, not queued);
 *   - the fault proxy bounds the connections one proxy holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startToxiproxyServer } from '../../chaos/server.ts';
import { decodeAnyVersion, parseEnvelope } from '../../reference-service/index.ts';
import { parseSessionKey, sessionKey, turnIdsKey } from '../../reference-service/store/keys.ts';
import { processStartTime } from '../../src/topology/cleanup.ts';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { startServiceChild, type ServiceChild } from './fixtures/service-child.ts';

const TOKEN = 'tenant-a-token';
const WINDOW_TURNS = 10;
const alive = (pid: number) => processStartTime(pid) !== undefined;

interface Ack {
  session: string;
  turnId: string;
  revision: number;
}

async function append(agent: Agent, url: string, session: string, turnId: string): Promise<{ status: number; body: any }> {
  const res = await request(`${url}/v1/sessions/${session}/turns`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ turnId, content: `turn ${turnId}` }),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  return { status: res.statusCode, body: await res.body.json().catch(() => undefined) };
}

/** Every stored session must parse and keep its own invariants; returns turnId → revision per session. */
async function checkStore(redis: Redis): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  const keys = (await redis.keys(sessionKey('tenant-a', '*'))).sort();
  for (const key of keys) {
    const session = parseSessionKey(key)!.session;
    const env = parseEnvelope((await redis.get(key))!);
    expect(env.schemaVersion, key).toBe(3);
    const state = decodeAnyVersion(env);
    // One revision per applied turn; the window is the newest turns; the rest are counted as compacted.
    expect(env.revision, key).toBe(state.turnCount);
    expect(state.turns.length, key).toBe(Math.min(state.turnCount, WINDOW_TURNS));
    expect(state.compactedTurns, key).toBe(state.turnCount - state.turns.length);
    const windowIds = state.turns.map((t) => t.turnId);
    expect(new Set(windowIds).size, `${key}: a turn twice in the window`).toBe(windowIds.length);
    // The idempotency record agrees: one entry per applied turn, the window's turns at consecutive revisions.
    const flat = await redis.zrange(turnIdsKey('tenant-a', session), 0, -1, 'WITHSCORES');
    const ids = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) ids.set(flat[i]!, Number(flat[i + 1]));
    expect(ids.size, key).toBe(state.turnCount);
    expect([...ids.values()].sort((a, b) => a - b), key).toEqual(Array.from({ length: state.turnCount }, (_, i) => i + 1));
    windowIds.forEach((id, i) => expect(ids.get(id), `${key} window[${i}]`).toBe(env.revision - windowIds.length + 1 + i));
    out.set(session, ids);
  }
  return out;
}

describe('kill -9 of a service instance mid-write', () => {
  let redis: RedisServer;
  let raw: Redis;
  const children: ServiceChild[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const c of children) await c.kill9();
    raw?.disconnect();
    await redis?.stop();
  });

  it('loses no acknowledged turn, leaves no half-written state, and a replay applies each unknown write at most once', async () => {
    const args = ['--redis', redis.url, '--model-latency-ms', '1-4', '--window-turns', String(WINDOW_TURNS), '--store-timeout-ms', '2000'];
    const first = await startServiceChild([...args, '--instance-id', 'i1']);
    children.push(first);
    const agent = new Agent({ connections: 32 });
    const acks: Ack[] = [];
    const unknown: Array<{ session: string; turnId: string }> = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const session = `dur-${(w + i) % 6}`;
        const turnId = `w${w}-${i}`;
        try {
          const a = await append(agent, first.url, session, turnId);
          if (a.status === 200) acks.push({ session, turnId, revision: a.body.revision });
          else unknown.push({ session, turnId }); // a 503 may still have been applied
        } catch {
          unknown.push({ session, turnId }); // no answer: applied or not, we cannot know
          return; // the instance is gone
        }
      }
    };
    const writers = Array.from({ length: 12 }, (_, w) => writer(w));
    const deadline = Date.now() + 15_000;
    while (acks.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await first.kill9();
    stop = true;
    await Promise.all(writers);
    await agent.close();
    expect(acks.length).toBeGreaterThanOrEqual(100);
    // Writes were in flight when the process died: the kill really was mid-write.
    expect(unknown.length).toBeGreaterThanOrEqual(1);

    // The store right after the kill: every session intact, every acknowledged turn there at its revision.
    const stored = await checkStore(raw);
    for (const a of acks) expect(stored.get(a.session)?.get(a.turnId), `${a.session}/${a.turnId}`).toBe(a.revision);

    // A fresh instance; the client retries what it does not know (same turn ids): each lands exactly once.
    const second = await startServiceChild([...args, '--instance-id', 'i2']);
    children.push(second);
    const agent2 = new Agent({ connections: 8 });
    const turnCountsBefore = new Map([...stored].map(([s, ids]) => [s, ids.size]));
    let newlyApplied = 0;
    for (const u of unknown) {
      const a = await append(agent2, second.url, u.session, u.turnId);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const before = stored.get(u.session)?.get(u.turnId);
      // Applied before the kill ⇔ answered as a replay (whose revision is the session's current one).
      expect(a.body.applied, `${u.session}/${u.turnId}`).toBe(before === undefined);
      if (before === undefined) newlyApplied++;
    }
    await agent2.close();
    if (process.env.STATEPROOF_FUZZ_VERBOSE) console.log(`kill -9 mid-write: ${acks.length} acknowledged, ${unknown.length} unknown, ${newlyApplied} of those applied on replay, ${stored.size} sessions`);
    const after = await checkStore(raw);
    let grown = 0;
    for (const [s, ids] of after) grown += ids.size - (turnCountsBefore.get(s) ?? 0);
    expect(grown).toBe(newlyApplied);
    for (const a of acks) expect(after.get(a.session)?.get(a.turnId)).toBe(a.revision);
    await second.stop();
  });
});

describe('kill -9 of the harness', () => {
  const stateDirForTest = mkdtempSync(path.join(os.tmpdir(), 'stateproof-hardening-state-'));
  const previous = process.env.STATEPROOF_STATE_DIR;
  const children: ChildProcess[] = [];
  const leftovers: number[] = [];
  let next: Topology | undefined;
  beforeAll(() => {
    process.env.STATEPROOF_STATE_DIR = stateDirForTest;
  });
  afterEach(async () => {
    await next?.stop();
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of leftovers.splice(0)) {
      try {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.STATEPROOF_STATE_DIR;
    else process.env.STATEPROOF_STATE_DIR = previous;
    rmSync(stateDirForTest, { recursive: true, force: true });
  });

  it('the next startTopology finds the dead run under load, kills what it left, removes its dir, and says so', { timeout: 90_000 }, async () => {
    const fixture = fileURLToPath(new URL('./fixtures/harness-under-load.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env: { ...process.env, STATEPROOF_STATE_DIR: stateDirForTest }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d) => (err = (err + String(d)).slice(-10_000)));
    const info = await new Promise<{ harnessPid: number; runId: string; pids: Record<string, number>; dir: string; runFiles: string[]; requests: number }>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`harness did not report within 60 s; stderr:\n${err}`)), 60_000);
      child.stdout!.on('data', (d) => {
        out += String(d);
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(t);
          resolve(JSON.parse(out.slice(0, nl)));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`harness exited (${code}) before reporting; stderr:\n${err}`));
      });
    });
    const pids = Object.values(info.pids);
    leftovers.push(...pids);
    expect(info.requests).toBeGreaterThan(0);
    expect(info.runFiles).toContain(`${info.runId}.json`);
    expect(pids.length).toBeGreaterThanOrEqual(2); // i1 and redis-server

    child.kill('SIGKILL');
    await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    // Children outlive a kill -9'd parent: this is what the run file is for.
    expect(alive(info.pids['redis-server']!)).toBe(true);
    expect(existsSync(info.dir)).toBe(true);

    const lines: string[] = [];
    next = await startTopology({ instances: 1, log: (m) => lines.push(m) });
    const note = lines.find((l) => l.includes('cleaned up after'));
    expect(note, lines.join('\n')).toBeDefined();
    // redis-server runs on alone; an instance may have died by itself already (its stdout/stderr
    // pipes went with the harness), so it is named only when the sweep had to kill it.
    expect(note).toContain(`redis-server (pid ${info.pids['redis-server']})`);
    for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
    expect(existsSync(path.join(stateDirForTest, `${info.runId}.json`))).toBe(false);
    // And the new run works.
    const res = await fetch(`${next.routerUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
  });
});

describe('resource limits', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('the service answers 503 overloaded at once beyond --max-inflight instead of queueing', async () => {
    const svc = await startServiceChild(['--redis', redis.url, '--max-inflight', '8', '--model-latency-ms', '400']);
    const agent = new Agent({ connections: 300 });
    try {
      const burst = 150;
      const answers = await Promise.all(
        Array.from({ length: burst }, async (_, i) => {
          const t0 = performance.now();
          const res = await request(`${svc.url}/v1/sessions/bp-${i}/turns`, {
            method: 'POST',
            dispatcher: agent,
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ turnId: 't1', content: 'x' }),
            headersTimeout: 30_000,
          });
          const body = (await res.body.json()) as { code?: string };
          return { status: res.statusCode, code: body.code, retryAfter: res.headers['retry-after'], ms: performance.now() - t0 };
        }),
      );
      const admitted = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 503);
      expect(admitted.length + refused.length).toBe(burst);
      expect(admitted.length).toBeGreaterThanOrEqual(8);
      expect(refused.length).toBeGreaterThanOrEqual(burst / 2);
      for (const r of refused) {
        expect(r.code).toBe('overloaded');
        expect(r.retryAfter).toBe('1');
      }
      // A queue would hold the last of 150 requests for ~150/8 × 400 ms ≈ 7.5 s; refusals come at once.
      const slowestRefusal = Math.max(...refused.map((r) => r.ms));
      if (process.env.STATEPROOF_FUZZ_VERBOSE) console.log(`max-inflight 8: ${admitted.length} admitted, ${refused.length} refused, slowest refusal ${slowestRefusal.toFixed(0)} ms, slowest admitted ${Math.max(...admitted.map((a) => a.ms)).toFixed(0)} ms`);
      expect(slowestRefusal).toBeLessThan(3_000);
      const health = await request(`${svc.url}/healthz`, { dispatcher: agent });
      expect(health.statusCode).toBe(200);
      expect(((await health.body.json()) as { inflight: number }).inflight).toBeLessThanOrEqual(1);
    } finally {
      await agent.close();
      await svc.stop();
    }
  });

  it('a fault proxy holds at most maxConnectionsPerProxy clients, closes the rest at accept and counts them', async () => {
    const echo = net.createServer((s) => s.pipe(s).on('error', () => {}));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const server = await startToxiproxyServer({ maxConnectionsPerProxy: 16 });
    const sockets: net.Socket[] = [];
    try {
      const proxy = await new Toxiproxy(server.url).createProxy({ name: 'bounded', listen: '127.0.0.1:0', upstream: `127.0.0.1:${(echo.address() as net.AddressInfo).port}` });
      const port = Number(proxy.listen.split(':').pop());
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          new Promise<'echoed' | 'closed'>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => s.write(`ping${i}`));
            sockets.push(s);
            s.setTimeout(5_000, () => s.destroy());
            s.once('data', () => resolve('echoed'));
            s.once('close', () => resolve('closed'));
            s.on('error', () => {});
          }),
        ),
      );
      expect(outcomes.filter((o) => o === 'echoed').length).toBe(16);
      expect(outcomes.filter((o) => o === 'closed').length).toBe(24);
      const p = server.proxies.get('bounded');
      expect(p.connectionCount).toBe(16);
      expect(p.droppedConnections).toBe(24);
      // Room again once clients leave.
      for (const s of sockets.splice(0)) s.destroy();
      const deadline = Date.now() + 5_000;
      while (p.connectionCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(p.connectionCount).toBe(0);
      const again = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('again'));
        sockets.push(s);
        s.setTimeout(5_000, () => s.destroy(new Error('no echo')));
        s.once('data', (d) => resolve(String(d)));
        s.once('error', reject);
      });
      expect(again).toBe('again');
    } finally {
      for (const s of sockets) s.destroy();
      await server.close();
      echo.close();
    }
  });
});
