import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Client, metricValue, redisClient, service, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';
import { sessionKey } from '../../reference-service/store/keys.ts';
import { encodeV1Session } from '../../reference-service/schema/v1.ts';
import { parseEnvelope } from '../../reference-service/schema/envelope.ts';

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

async function start(cfg: Parameters<typeof service>[1]): Promise<Client> {
  const s = await service(redis, cfg);
  services.push(s);
  return new Client(s.url);
}

const seedV1 = (session: string) =>
  raw.set(
    sessionKey('tenant-a', session),
    encodeV1Session({
      turns: [
        { turnId: 'old1', user: 'remember: likes tea', assistant: 'ok' },
        { turnId: 'old2', user: 'hi', assistant: 'hello' },
      ],
      pinned: ['likes tea'],
      compacted: 3,
    }),
  );

describe('migrations on', () => {
  it('reads a seeded v1 session on a v3 instance and writes it back as v3 on the next write', async () => {
    await seedV1('legacy');
    const c = await start({});
    const r = await c.read('legacy');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ schemaVersion: 1, revision: 5, turnCount: 5, pinned: ['likes tea'] });
    expect(r.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['old1', 'old2']);
    // A read does not write.
    expect(parseEnvelope((await raw.get(sessionKey('tenant-a', 'legacy')))!).schemaVersion).toBe(1);

    const w = await c.append('legacy', 'new1', 'and now?');
    expect(w.body).toMatchObject({ applied: true, schemaVersion: 3, revision: 6, turnCount: 6 });
    const env = parseEnvelope((await raw.get(sessionKey('tenant-a', 'legacy')))!);
    expect(env.schemaVersion).toBe(3);
    expect(env.data).toMatchObject({ turnCount: 6, summary: { compactedTurns: 3, pinned: ['likes tea'] } });
    expect(metricValue(await c.metrics(), 'stateproof_state_lifecycle_events_total{event="migrate"}')).toBe(1);
  });

  it('a v2 instance meeting v3 state answers 409 unsupported_schema_version and does not overwrite it', async () => {
    const v3 = await start({});
    await v3.append('newer', 'a', 'written by v3');
    const before = await raw.get(sessionKey('tenant-a', 'newer'));
    const v2 = await start({ schemaVersion: 2 });
    const r = await v2.read('newer');
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('unsupported_schema_version');
    const w = await v2.append('newer', 'b', 'from v2');
    expect(w.status).toBe(409);
    expect(w.body.code).toBe('unsupported_schema_version');
    expect(await raw.get(sessionKey('tenant-a', 'newer'))).toBe(before);
    expect(metricValue(await v2.metrics(), 'stateproof_state_lifecycle_events_total{event="reject"}')).toBe(2);
  });

  it('a v1 instance and a v2 instance keep working on their own versions, and v2 migrates v1', async () => {
    const v1 = await start({ schemaVersion: 1 });
    await v1.append('chain', 'a', 'one');
    expect(parseEnvelope((await raw.get(sessionKey('tenant-a', 'chain')))!).schemaVersion).toBe(1);
    const v2 = await start({ schemaVersion: 2 });
    const w = await v2.append('chain', 'b', 'two');
    expect(w.body).toMatchObject({ schemaVersion: 2, turnCount: 2, revision: 2 });
    expect((await v1.append('chain', 'c', 'three')).status).toBe(409);
  });
});

describe('migrations off', () => {
  it('a v3 instance fails on v1 state with a 500', async () => {
    await seedV1('legacy-off');
    const c = await start({ unsafe: ['migrations'] });
    expect((await c.read('legacy-off')).status).toBe(500);
    expect((await c.append('legacy-off', 'x', 'hi')).status).toBe(500);
  });

  it('a v2 instance clobbers v3 state with its own version', async () => {
    const v3 = await start({});
    await v3.append('clobber', 'a', 'written by v3');
    const v2 = await start({ schemaVersion: 2, unsafe: ['migrations'] });
    const w = await v2.append('clobber', 'b', 'from v2');
    expect(w.status).toBe(200);
    const env = parseEnvelope((await raw.get(sessionKey('tenant-a', 'clobber')))!);
    expect(env.schemaVersion).toBe(2); // went backwards
    expect(env.data).not.toHaveProperty('createdAtMs');
  });
});
