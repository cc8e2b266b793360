/**
 * Key layout 2 (`{tenant:session}` per session) on a store an older service wrote in layout 1
 * (`{tenant}`): the old sessions stay readable and writable, move to the new keys on first touch
 * with their idempotency record, and a delete leaves neither layout behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Client, redisClient, service, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';
import { legacyKeys, parseSessionKey, sessionKey, turnIdsKey } from '../../reference-service/store/keys.ts';
import { encodeEnvelope } from '../../reference-service/schema/envelope.ts';
import { encodeAt } from '../../reference-service/schema/migrate.ts';
import { snapshotStore } from '../../src/run/store-snapshot.ts';

let redis: RedisServer;
let raw: Redis;
let svc: ServiceHandle;
let c: Client;
beforeAll(async () => {
  redis = await startRedisServer();
  raw = await redisClient(redis);
  svc = await service(redis, {});
  c = new Client(svc.url);
});
afterAll(async () => {
  raw?.disconnect();
  await svc?.close();
  await redis?.stop();
});

/** What a layout-1 service left: a v3 envelope at revision 2 and its two turn ids, with a TTL. */
async function seedLayout1(session: string): Promise<void> {
  const old = legacyKeys('tenant-a', session);
  const state = {
    turns: [
      { turnId: 'a1', user: 'first', assistant: 'one', atMs: 1 },
      { turnId: 'a2', user: 'second', assistant: 'two', atMs: 2 },
    ],
    turnCount: 2,
    compactedTurns: 0,
    pinned: [],
    createdAtMs: 1,
    updatedAtMs: 2,
  };
  await raw.set(old.key, encodeEnvelope(3, 2, encodeAt(state, 3)), 'EX', 500);
  await raw.zadd(old.idsKey, 1, 'a1', 2, 'a2');
  await raw.expire(old.idsKey, 500);
}

describe('key layout 2 beside layout 1', () => {
  it('names a session and its turn-id index with one hash tag per session, and parses both layouts back', () => {
    expect(sessionKey('tenant-a', 's1')).toBe('sp:{tenant-a:s1}:session');
    expect(turnIdsKey('tenant-a', 's1')).toBe('sp:{tenant-a:s1}:turnids');
    expect(parseSessionKey('sp:{tenant-a:s1}:session')).toEqual({ tenant: 'tenant-a', session: 's1', layout: 2 });
    expect(parseSessionKey('sp:{tenant-a}:session:s1')).toEqual({ tenant: 'tenant-a', session: 's1', layout: 1 });
    expect(parseSessionKey('sp:{tenant-a:s1}:turnids')).toBeUndefined();
  });

  it('reads a layout-1 session and moves it, TTL and turn ids included', async () => {
    await seedLayout1('old-read');
    const r = await c.read('old-read');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ revision: 2, turnCount: 2 });
    const old = legacyKeys('tenant-a', 'old-read');
    expect(await raw.exists(old.key, old.idsKey)).toBe(0);
    expect(await raw.zrange(turnIdsKey('tenant-a', 'old-read'), 0, -1, 'WITHSCORES')).toEqual(['a1', '1', 'a2', '2']);
    expect(await raw.ttl(sessionKey('tenant-a', 'old-read'))).toBeGreaterThan(400);
  });

  it('appends to a layout-1 session at its next revision, and a replay of an old turn id is not applied twice', async () => {
    await seedLayout1('old-write');
    const replay = await c.append('old-write', 'a2', 'second');
    expect(replay.body).toMatchObject({ applied: false, revision: 2 });
    const next = await c.append('old-write', 'a3', 'third');
    expect(next.body).toMatchObject({ applied: true, revision: 3, turnCount: 3 });
    const read = await c.read('old-write');
    expect(read.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['a1', 'a2', 'a3']);
  });

  it('never overwrites a session already moved with the older copy', async () => {
    await seedLayout1('moved');
    await c.append('moved', 'm3', 'after the move');
    // A layout-1 copy reappears (an older instance wrote it): the newer layout-2 session wins.
    await seedLayout1('moved');
    const r = await c.read('moved');
    expect(r.body).toMatchObject({ revision: 3, turnCount: 3 });
  });

  it('a delete removes both layouts, so an old copy cannot bring the session back', async () => {
    await seedLayout1('gone');
    await c.append('gone', 'g3', 'x');
    await seedLayout1('gone');
    expect((await c.remove('gone')).status).toBe(204);
    expect((await c.read('gone')).status).toBe(404);
    expect(await raw.exists(sessionKey('tenant-a', 'gone'), legacyKeys('tenant-a', 'gone').key)).toBe(0);
  });

  it('the store snapshot sees a session in either layout once', async () => {
    await seedLayout1('untouched');
    const snap = await snapshotStore(redis.url);
    const mine = snap.sessions.filter((s) => ['untouched', 'old-write', 'moved'].includes(s.session));
    expect(mine.map((s) => [s.session, s.revision]).sort()).toEqual([
      ['moved', 3],
      ['old-write', 3],
      ['untouched', 2],
    ]);
  });
});
