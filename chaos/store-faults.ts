/**
 * Store faults made for real on a running redis-server — the failures only the store itself can
 * produce: out of memory on writes, eviction, writes refused while reads work, a stalled server,
 * a flush, and a restart with or without AOF. Each returns an AppliedFault whose `verified` says
 * whether Redis itself showed the effect, and whose `undo` restores what was changed.
 *
 * Self-limiting where Redis allows it: CLIENT PAUSE and DEBUG SLEEP end on their own even if the
 * harness dies before undoing them.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import type { AppliedFault } from './process.ts';

/**
 * The store handle the faults that act on the process itself (restart, failover's kill -9) need:
 * chaos declares it, as it does FaultableProcess, and topology's RedisServer satisfies it.
 */
export interface FaultableStore {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Whether acknowledged writes survive a restart (appendonly with fsync always). */
  readonly aof: boolean;
  /** SIGKILL: the process gets no chance to flush. */
  kill9(): Promise<void>;
  /** Stop (kill -9 when `hard`) and start again on the same port and dir, ready for commands. */
  restart(opts?: { hard?: boolean }): Promise<void>;
}

/** A key nobody else uses; writes to it are refused or immediately deleted. */
const PROBE_KEY = 'stateproof:chaos:probe';
/** CLIENT PAUSE outlives the planned end by this much, so the undo is what ends it. */
const PAUSE_GRACE_MS = 2_000;

export async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000, commandTimeout: 5_000, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function configGet(r: Redis, name: string): Promise<string> {
  const [, value] = (await r.config('GET', name)) as string[];
  return value ?? '';
}

export async function infoField(r: Redis, section: string, field: string): Promise<string | undefined> {
  const text = await r.info(section);
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

/** Sends one RESP command on a raw socket; true if no reply came within `ms` (the server is holding it). */
function repliesWithin(host: string, port: number, command: string[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (replied: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(replied);
    };
    const timer = setTimeout(() => done(false), ms);
    s.on('error', () => done(true));
    s.once('connect', () => s.write(`*${command.length}\r\n${command.map((c) => `$${Buffer.byteLength(c)}\r\n${c}\r\n`).join('')}`));
    s.once('data', () => done(true));
  });
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

async function restoreMemory(url: string, maxmemory: string, policy: string): Promise<void> {
  await withRedis(url, async (r) => {
    await r.config('SET', 'maxmemory-policy', policy);
    await r.config('SET', 'maxmemory', maxmemory);
  });
}

/**
 * Out of memory on writes: maxmemory at (or below) what is used, policy noeviction. Writes answer
 * "OOM command not allowed…", reads still work. `maxmemory` default "1" (bytes): full right away.
 */
export async function storeOutOfMemory(url: string, opts: { maxmemory?: string | number } = {}): Promise<AppliedFault> {
  return withRedis(url, async (r) => {
    const before = { maxmemory: await configGet(r, 'maxmemory'), policy: await configGet(r, 'maxmemory-policy') };
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await r.config('SET', 'maxmemory', String(opts.maxmemory ?? 1));
    let detail: string;
    try {
      await r.set(PROBE_KEY, 'x');
      await r.del(PROBE_KEY);
      detail = 'SET still accepted (not full yet)';
    } catch (e) {
      detail = `SET answered: ${(e as Error).message}`;
    }
    return { verified: detail.includes('OOM'), detail, undo: () => restoreMemory(url, before.maxmemory, before.policy) };
  });
}

/**
 * Eviction: maxmemory with an LRU (or other evicting) policy; keys disappear as memory fills.
 * `maxmemory` default: what is used now, so any growth evicts.
 */
export async function storeEviction(url: string, opts: { maxmemory?: string | number; policy?: string } = {}): Promise<AppliedFault> {
  return withRedis(url, async (r) => {
    const before = { maxmemory: await configGet(r, 'maxmemory'), policy: await configGet(r, 'maxmemory-policy') };
    const policy = opts.policy ?? 'allkeys-lru';
    const maxmemory = String(opts.maxmemory ?? (await infoField(r, 'memory', 'used_memory')) ?? '1mb');
    await r.config('SET', 'maxmemory-policy', policy);
    await r.config('SET', 'maxmemory', maxmemory);
    const seen = { maxmemory: await configGet(r, 'maxmemory'), policy: await configGet(r, 'maxmemory-policy') };
    return {
      verified: seen.policy === policy && Number(seen.maxmemory) > 0,
      detail: `maxmemory ${seen.maxmemory} bytes, policy ${seen.policy}`,
      undo: () => restoreMemory(url, before.maxmemory, before.policy),
    };
  });
}

/** Writes refused (held) while reads work: CLIENT PAUSE … WRITE; undone by CLIENT UNPAUSE. */
export async function storePauseWrites(url: string, opts: { durationMs: number }): Promise<AppliedFault> {
  await withRedis(url, (r) => r.call('CLIENT', 'PAUSE', String(Math.ceil(opts.durationMs + PAUSE_GRACE_MS)), 'WRITE'));
  const { host, port } = hostPort(url);
  const writeHeld = !(await repliesWithin(host, port, ['DEL', PROBE_KEY], 200));
  const readServed = await repliesWithin(host, port, ['GET', PROBE_KEY], 1_000);
  return {
    verified: writeHeld && readServed,
    detail: `write ${writeHeld ? 'held' : 'answered'}, read ${readServed ? 'answered' : 'held'}`,
    undo: () => withRedis(url, (r) => r.call('CLIENT', 'UNPAUSE')).then(() => {}),
  };
}

/**
 * A stalled server: DEBUG SLEEP for the fault's duration (needs enable-debug-command, which
 * startRedisServer sets). The undo waits for the sleep to end; it cannot be cut short.
 */
export async function storeStall(url: string, opts: { durationMs: number }): Promise<AppliedFault> {
  const sleeper = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  sleeper.on('error', () => {});
  await sleeper.connect();
  const slept = sleeper.call('DEBUG', 'SLEEP', (opts.durationMs / 1000).toFixed(3)).then(
    () => undefined,
    (e: Error) => e,
  );
  await new Promise((r) => setTimeout(r, 20));
  const { host, port } = hostPort(url);
  const stalled = !(await repliesWithin(host, port, ['PING'], Math.min(200, Math.max(20, opts.durationMs / 3))));
  return {
    verified: stalled,
    detail: stalled ? 'PING got no answer during DEBUG SLEEP' : 'PING answered: not stalled',
    undo: async () => {
      const err = await slept;
      sleeper.disconnect();
      if (err) throw err;
    },
  };
}

/** FLUSHALL; verified by DBSIZE 0. Nothing to undo: the data is gone, which is the point. */
export async function storeFlushAll(url: string): Promise<AppliedFault> {
  return withRedis(url, async (r) => {
    const before = await r.dbsize();
    await r.flushall();
    const after = await r.dbsize();
    return { verified: after === 0, detail: `DBSIZE ${before} -> ${after}`, undo: async () => {} };
  });
}

/**
 * Restart redis-server (kill -9 when `hard`). With AOF (appendfsync always) acknowledged writes
 * survive; without it the store comes back empty. Verified by a new process id answering PING.
 */
export async function storeRestart(server: FaultableStore, opts: { hard?: boolean } = {}): Promise<AppliedFault> {
  const before = await withRedis(server.url, async (r) => ({ pid: await infoField(r, 'server', 'process_id'), keys: await r.dbsize() }));
  await server.restart({ hard: opts.hard ?? false });
  const after = await withRedis(server.url, async (r) => ({ pid: await infoField(r, 'server', 'process_id'), keys: await r.dbsize(), pong: await r.ping() }));
  return {
    verified: after.pong === 'PONG' && after.pid !== before.pid,
    detail: `${opts.hard ? 'kill -9' : 'SIGTERM'} restart, aof ${server.aof ? 'on' : 'off'}: keys ${before.keys} -> ${after.keys}`,
    undo: async () => {},
  };
}
