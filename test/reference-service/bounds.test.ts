import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Client, redisClient, service, sleep, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';
import { sessionKey, turnIdsKey } from '../../reference-service/store/keys.ts';

let redis: RedisServer;
let raw: Redis;
const services: ServiceHandle[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
  raw = await redisClient(redis);
});
afterAll(async () => {
  raw?.disconnect();
  await Promise.all(services.map((s) => s.close()));
  await redis?.stop();
});

async function appendMany(c: Client, session: string, n: number, content = (i: number) => `message ${i}`) {
  for (let i = 0; i < n; i++) {
    const a = await c.append(session, `t${i}`, content(i));
    expect(a.status).toBe(200);
  }
}

describe('bounds on', () => {
  it('keeps a window of N turns, counts every turn, and pinned facts survive compaction', async () => {
    const s = await service(redis, { windowTurns: 4 });
    services.push(s);
    const c = new Client(s.url);
    await appendMany(c, 'win', 12, (i) => (i === 1 ? 'remember: my cat is called Tom' : i === 5 ? 'Remember:  allergic to nuts ' : `message ${i}`));
    const r = await c.read('win');
    expect(r.body.turnCount).toBe(12);
    expect(r.body.revision).toBe(12);
    expect(r.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['t8', 't9', 't10', 't11']);
    expect(r.body.pinned).toEqual(['my cat is called Tom', 'allergic to nuts']);
    expect(r.body.summary).toContain('8 earlier turns compacted');
    expect(r.body.summary).toContain('my cat is called Tom');
    // The reply is built from the context: it knows the pinned facts.
    const next = await c.append('win', 't12', 'what do you know?');
    expect(next.body.reply).toContain('2 pinned facts');
  });

  it('sets a TTL on the session and its turn ids, refreshed on each write', async () => {
    const s = await service(redis, { ttlSeconds: 100 });
    services.push(s);
    const c = new Client(s.url);
    await c.append('ttl', 'a', 'one');
    const key = sessionKey('tenant-a', 'ttl');
    expect(await raw.ttl(key)).toBeGreaterThan(90);
    expect(await raw.ttl(turnIdsKey('tenant-a', 'ttl'))).toBeGreaterThan(90);
    await raw.expire(key, 5);
    await c.append('ttl', 'b', 'two');
    expect(await raw.ttl(key)).toBeGreaterThan(90);
  });

  it('expires a session after its TTL (seconds for tests) and counts the expiry it observes', async () => {
    const s = await service(redis, { ttlSeconds: 1 });
    services.push(s);
    const c = new Client(s.url);
    await c.append('short', 'a', 'one');
    await sleep(2_100);
    expect((await c.read('short')).status).toBe(404);
    expect(await c.metrics()).toMatch(/stateproof_state_lifecycle_events_total\{event="expire"\} 1/);
  });

  it('answers 413 state_too_large for an oversized turn or state and changes nothing', async () => {
    const s = await service(redis, { maxTurnBytes: 100, maxStateBytes: 2_000, windowTurns: 50 });
    services.push(s);
    const c = new Client(s.url);
    await c.append('big', 'a', 'small');
    const before = await raw.get(sessionKey('tenant-a', 'big'));
    const tooBigTurn = await c.append('big', 'b', 'x'.repeat(101));
    expect(tooBigTurn.status).toBe(413);
    expect(tooBigTurn.body.code).toBe('state_too_large');
    expect(await raw.get(sessionKey('tenant-a', 'big'))).toBe(before);
    // Fill up to the state limit: the first append that would pass it is refused, the store unchanged.
    let stored = before;
    let last = tooBigTurn;
    for (let i = 0; i < 40; i++) {
      last = await c.append('big', `f${i}`, 'y'.repeat(90));
      if (last.status !== 200) break;
      stored = await raw.get(sessionKey('tenant-a', 'big'));
    }
    expect(last.status).toBe(413);
    expect(last.body.code).toBe('state_too_large');
    expect(await raw.get(sessionKey('tenant-a', 'big'))).toBe(stored);
    expect(Buffer.byteLength(stored!)).toBeLessThanOrEqual(2_000);
    expect((await c.read('big')).body.bytes).toBe(Buffer.byteLength(stored!));
    // A rejected turn id was not recorded either: it can be applied later under a bigger limit.
    expect(await raw.zscore(turnIdsKey('tenant-a', 'big'), 'b')).toBeNull();
  });
});

describe('bounds off', () => {
  it('keeps the full history, sets no TTL and accepts any size', async () => {
    const s = await service(redis, { unsafe: ['bounds'], windowTurns: 4, maxTurnBytes: 100, maxStateBytes: 2_000 });
    services.push(s);
    const c = new Client(s.url);
    await appendMany(c, 'grow', 30, (i) => `${i} ${'z'.repeat(200)}`);
    const r = await c.read('grow');
    expect(r.body.turnCount).toBe(30);
    expect(r.body.turns).toHaveLength(30);
    expect(r.body.bytes).toBeGreaterThan(2_000);
    expect(await raw.ttl(sessionKey('tenant-a', 'grow'))).toBe(-1);
    expect(await raw.ttl(turnIdsKey('tenant-a', 'grow'))).toBe(-1);
  });
});
