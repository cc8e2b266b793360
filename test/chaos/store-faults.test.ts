/** Store faults on a real redis-server, with their effects as Redis itself reports them. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEviction, storeFlushAll, storeOutOfMemory, storePauseWrites, storeRestart, storeStall } from '../../chaos/store-faults.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';

let redis: RedisServer;
let r: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  r?.disconnect();
  await redis?.stop();
});

const configGet = async (name: string) => ((await r.config('GET', name)) as string[])[1];
const info = async (section: string, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(await r.info(section))?.[1]?.trim();

describe('store faults', () => {
  it('oom: writes answer OOM, reads work; undo restores maxmemory and policy', async () => {
    await r.set('before', '1');
    const fault = await storeOutOfMemory(redis.url);
    expect(fault.verified).toBe(true);
    await expect(r.set('k', 'v')).rejects.toThrow(/^OOM command not allowed/);
    expect(await r.get('before')).toBe('1');
    expect(await configGet('maxmemory-policy')).toBe('noeviction');
    await fault.undo();
    expect(await configGet('maxmemory')).toBe('0');
    expect(await r.set('k', 'v')).toBe('OK');
  });

  it('evict: keys are evicted as memory fills (INFO evicted_keys), undo restores', async () => {
    const used = Number(await info('memory', 'used_memory'));
    const fault = await storeEviction(redis.url, { maxmemory: used + 512 * 1024, policy: 'allkeys-lru' });
    expect(fault.verified).toBe(true);
    expect(await configGet('maxmemory-policy')).toBe('allkeys-lru');
    const before = Number(await info('stats', 'evicted_keys'));
    const value = 'e'.repeat(10_000);
    for (let i = 0; i < 200; i++) await r.set(`evict:${i}`, value);
    expect(Number(await info('stats', 'evicted_keys'))).toBeGreaterThan(before);
    await fault.undo();
    expect(await configGet('maxmemory')).toBe('0');
    expect(await configGet('maxmemory-policy')).toBe('noeviction');
    await r.flushall();
  });

  it('pause_writes: a write waits while a read is served; undo lets the write through', async () => {
    const fault = await storePauseWrites(redis.url, { durationMs: 5_000 });
    expect(fault.verified).toBe(true);
    const other = new Redis(redis.url);
    try {
      await other.ping();
      let wrote = false;
      // One connection for the write: a client held on a write processes nothing after it.
      const write = other.set('paused', '1').then(() => (wrote = true));
      expect(await r.get('nothing')).toBeNull();
      await new Promise((res) => setTimeout(res, 150));
      expect(wrote).toBe(false);
      await fault.undo();
      await write;
      expect(await r.get('paused')).toBe('1');
    } finally {
      other.disconnect();
    }
  });

  it('stall: PING waits for DEBUG SLEEP to end', async () => {
    const start = performance.now();
    const fault = await storeStall(redis.url, { durationMs: 600 });
    expect(fault.verified).toBe(true);
    await r.ping();
    expect(performance.now() - start).toBeGreaterThanOrEqual(500);
    await fault.undo();
  });

  it('flushall empties the store', async () => {
    await r.set('a', '1');
    const fault = await storeFlushAll(redis.url);
    expect(fault.verified).toBe(true);
    expect(await r.dbsize()).toBe(0);
  });

  it('restart without AOF loses the data; with AOF it survives', async () => {
    await r.set('kept', '1');
    const lost = await storeRestart(redis, { hard: true });
    expect(lost.verified).toBe(true);
    expect(lost.detail).toMatch(/aof off: keys 1 -> 0/);

    const aof = await startRedisServer({ aof: true });
    const c = new Redis(aof.url, { maxRetriesPerRequest: 1 });
    try {
      await c.set('kept', '1');
      const kept = await storeRestart(aof, { hard: true });
      expect(kept.verified).toBe(true);
      const after = new Redis(aof.url);
      expect(await after.get('kept')).toBe('1');
      after.disconnect();
    } finally {
      c.disconnect();
      await aof.stop();
    }
  });
});
