import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { encodeV1Session, decodeV1, encodeV1 } from '../../reference-service/schema/v1.ts';
import { decodeV2, encodeV2 } from '../../reference-service/schema/v2.ts';
import { decodeV3, encodeV3 } from '../../reference-service/schema/v3.ts';
import { CorruptStateError, encodeEnvelope, parseEnvelope } from '../../reference-service/schema/envelope.ts';
import { decodeAnyVersion, decodeAt, migrateV1toV2, migrateV2toV3, UnsupportedSchemaError } from '../../reference-service/schema/migrate.ts';
import { SchemaMismatchError, type SessionState } from '../../reference-service/schema/state.ts';
import { appendTurn, pinnedFact } from '../../reference-service/safeguards/compact.ts';
import { CAS_APPEND_LUA, CAS_STATUS } from '../../reference-service/store/cas-script.ts';
import { startRedisServer, type RedisServer } from './helpers.ts';

const turnArb = fc.record({ turnId: fc.stringMatching(/^[a-z0-9]{1,8}$/), user: fc.string({ maxLength: 30 }), assistant: fc.string({ maxLength: 30 }) });

describe('schema versions and migrators', () => {
  it('migrates v1 → v2 → v3 purely and without losing turns, counts or pinned facts', () => {
    fc.assert(
      fc.property(fc.array(turnArb, { maxLength: 12 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.nat(50), (turns, pinned, compacted) => {
        const env = parseEnvelope(encodeV1Session({ turns, pinned, compacted }));
        const frozen = JSON.stringify(env.data);
        const v2 = migrateV1toV2(env.data as never);
        const v3 = migrateV2toV3(v2);
        expect(JSON.stringify(env.data)).toBe(frozen); // inputs untouched
        expect(migrateV2toV3(migrateV1toV2(env.data as never))).toEqual(v3); // deterministic
        const s = decodeAnyVersion(env);
        expect(s.turns.map(({ turnId, user, assistant }) => ({ turnId, user, assistant }))).toEqual(turns);
        expect(s.turnCount).toBe(compacted + turns.length);
        expect(s.pinned).toEqual(pinned);
        expect(env.revision).toBe(compacted + turns.length);
      }),
    );
  });

  it('round-trips the common state through every version', () => {
    const s: SessionState = { turns: [{ turnId: 'a', user: 'u', assistant: 'x', atMs: 5 }], turnCount: 4, compactedTurns: 3, pinned: ['p'], createdAtMs: 1, updatedAtMs: 5 };
    expect(decodeV3(encodeV3(s))).toEqual(s);
    expect(decodeV2(encodeV2(s))).toMatchObject({ turnCount: 4, compactedTurns: 3, pinned: ['p'] });
    expect(decodeV1(encodeV1(s))).toMatchObject({ turnCount: 4, compactedTurns: 3, pinned: ['p'] });
  });

  it('refuses newer versions, and without migrations fails on older data', () => {
    const v3 = { schemaVersion: 3, revision: 1, data: encodeV3({ turns: [], turnCount: 0, compactedTurns: 0, pinned: [], createdAtMs: 0, updatedAtMs: 0 }) };
    expect(() => decodeAt(v3, 2, true)).toThrow(UnsupportedSchemaError);
    expect(decodeAt(v3, 2, false).state.turnCount).toBe(0); // lossy read: the clobbering path
    const v1 = parseEnvelope(encodeV1Session({ turns: [{ turnId: 'a', user: 'u', assistant: 'x' }] }));
    expect(() => decodeAt(v1, 3, false)).toThrow(SchemaMismatchError);
    expect(decodeAt(v1, 3, true)).toMatchObject({ storedVersion: 1, migrated: true });
  });

  it('parseEnvelope rejects what is not an envelope', () => {
    for (const bad of ['nope', '[]', '{"schemaVersion":0,"revision":1,"data":{}}', '{"schemaVersion":1,"revision":-1,"data":{}}', '{"schemaVersion":1,"revision":1}']) {
      expect(() => parseEnvelope(bad), bad).toThrow(CorruptStateError);
    }
    expect(encodeEnvelope(2, 7, { a: 1 })).toBe('{"schemaVersion":2,"revision":7,"data":{"a":1}}');
  });
});

describe('compaction', () => {
  it('keeps the last N turns, counts all, pins "remember:" facts once', () => {
    let s: SessionState = { turns: [], turnCount: 0, compactedTurns: 0, pinned: [], createdAtMs: 0, updatedAtMs: 0 };
    for (let i = 0; i < 25; i++) s = appendTurn(s, { turnId: `t${i}`, user: i % 10 === 3 ? 'remember: blue' : `m${i}`, assistant: 'r', atMs: i + 1 }, 5);
    expect(s.turns.map((t) => t.turnId)).toEqual(['t20', 't21', 't22', 't23', 't24']);
    expect(s).toMatchObject({ turnCount: 25, compactedTurns: 20, pinned: ['blue'], createdAtMs: 1, updatedAtMs: 25 });
    expect(pinnedFact('  REMEMBER:  x y ')).toBe('x y');
    expect(pinnedFact('remember:')).toBeUndefined();
    expect(pinnedFact('I remember: no')).toBeUndefined();
  });
});

describe('compare-and-set script', () => {
  let redis: RedisServer;
  let r: Redis;
  let cas: (...a: Array<string | number>) => Promise<[number, number, number]>;
  beforeAll(async () => {
    redis = await startRedisServer();
    r = new Redis(redis.url);
    r.defineCommand('cas', { numberOfKeys: 2, lua: CAS_APPEND_LUA });
    cas = (r as unknown as { cas: typeof cas }).cas.bind(r);
  });
  afterAll(async () => {
    r?.disconnect();
    await redis?.stop();
  });
  const v = (ver: number, rev: number) => encodeEnvelope(ver, rev, { n: rev });
  const call = (expected: number, ver: number, turnId: string, o: { ttl?: number; maxVer?: number; keep?: number; deadline?: number } = {}) =>
    cas('k', 'ids', expected, v(ver, expected + 1), turnId, o.ttl ?? 0, o.maxVer ?? 3, o.keep ?? 0, o.deadline ?? 0);

  it('applies, replays, conflicts, guards the schema version and honours the deadline', async () => {
    expect(await call(0, 3, 'a')).toEqual([CAS_STATUS.applied, 1, 0]);
    expect(await call(0, 3, 'a')).toEqual([CAS_STATUS.replayed, 1, 0]);
    expect(await call(0, 3, 'b')).toEqual([CAS_STATUS.conflict, 1, 3]);
    expect(await call(1, 3, 'b', { deadline: Date.now() - 1_000 })).toEqual([CAS_STATUS.expired, 0, 0]);
    expect(await call(1, 3, 'b', { maxVer: 2 })).toEqual([CAS_STATUS.unsupported, 1, 3]);
    expect(await r.get('k')).toBe(v(3, 1)); // none of those wrote
    expect(await call(1, 3, 'b', { ttl: 60, keep: 2, deadline: Date.now() + 5_000 })).toEqual([CAS_STATUS.applied, 2, 3]);
    expect(await r.ttl('k')).toBeGreaterThan(50);
    expect(await r.ttl('ids')).toBeGreaterThan(50);
    expect(await call(2, 3, 'c', { keep: 2 })).toEqual([CAS_STATUS.applied, 3, 3]);
    expect(await r.zrange('ids', 0, -1, 'WITHSCORES')).toEqual(['b', '2', 'c', '3']); // idempotency window of 2
  });

  it('reads revisions of values it did not write (cjson fallback) and flags corrupt ones', async () => {
    await r.set('k2', '{"revision":4,"data":{},"schemaVersion":1}');
    expect(await cas('k2', 'ids2', 4, v(3, 5), 'x', 0, 3, 0, 0)).toEqual([CAS_STATUS.applied, 5, 1]);
    await r.set('k3', 'garbage');
    expect(await cas('k3', 'ids3', 0, v(3, 1), 'x', 0, 3, 0, 0)).toEqual([CAS_STATUS.corrupt, 0, 0]);
  });
});
