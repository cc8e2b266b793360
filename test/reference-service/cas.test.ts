import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, metricValue, service, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

let redis: RedisServer;
const services: ServiceHandle[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await redis?.stop();
});

const parallelAppends = (c: Client, session: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => c.append(session, `t${i}`, `message ${i}`)));

describe('cas on', () => {
  it('counts all of 50 concurrent appends to one session; revision == turnCount', async () => {
    const s = await service(redis, { modelLatencyMs: '1-4', windowTurns: 100 });
    services.push(s);
    const c = new Client(s.url);
    const answers = await parallelAppends(c, 'race', 50);
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(answers.every((a) => a.body.applied === true)).toBe(true);
    expect(new Set(answers.map((a) => a.body.revision)).size).toBe(50);
    const r = await c.read('race');
    expect(r.body.turnCount).toBe(50);
    expect(r.body.revision).toBe(50);
    expect(new Set(r.body.turns.map((t: { turnId: string }) => t.turnId)).size).toBe(50);
  });

  it('answers a replayed turnId applied:false without appending twice', async () => {
    const s = await service(redis);
    services.push(s);
    const c = new Client(s.url);
    const first = await c.append('replay', 'x1', 'hello');
    const again = await c.append('replay', 'x1', 'hello');
    expect(first.body).toMatchObject({ applied: true, revision: 1, turnCount: 1 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ applied: false, revision: 1, turnCount: 1, reply: first.body.reply });
    // Concurrent replays of one new turnId: exactly one applies.
    const burst = await Promise.all(Array.from({ length: 10 }, () => c.append('replay', 'x2', 'same')));
    expect(burst.filter((a) => a.body.applied === true)).toHaveLength(1);
    expect((await c.read('replay')).body.turnCount).toBe(2);
  });

  it('answers 409 revision_conflict when If-Match differs, and applies when it matches', async () => {
    const s = await service(redis);
    services.push(s);
    const c = new Client(s.url);
    await c.append('ifm', 'a', 'one');
    const stale = await c.append('ifm', 'b', 'two', 0);
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toContain('application/problem+json');
    expect(stale.body.code).toBe('revision_conflict');
    const ok = await c.append('ifm', 'c', 'three', 1);
    expect(ok.body).toMatchObject({ applied: true, revision: 2 });
    // Two conditional writers on the same revision: one wins, one conflicts.
    const [x, y] = await Promise.all([c.append('ifm', 'd', 'x', 2), c.append('ifm', 'e', 'y', 2)]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    expect(metricValue(await c.metrics(), 'stateproof_state_conflicts_total')).toBe(2);
  });
});

describe('cas off', () => {
  it('loses turns when appends race (naive read-modify-write)', async () => {
    const s = await service(redis, { unsafe: ['cas'], modelLatencyMs: '2-6', windowTurns: 100 });
    services.push(s);
    const c = new Client(s.url);
    const answers = await parallelAppends(c, 'naive', 50);
    expect(answers.every((a) => a.status === 200 && a.body.applied === true)).toBe(true); // all acknowledged...
    const r = await c.read('naive');
    expect(r.body.turnCount).toBeLessThan(50); // ...but not all kept
    expect(r.body.turns.length).toBeLessThan(50);
  });
});
