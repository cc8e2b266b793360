import { afterEach, describe, expect, it } from 'vitest';
import { Client, metricValue, redisClient, service, sleep, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

let redis: RedisServer | undefined;
let svc: ServiceHandle | undefined;
afterEach(async () => {
  await svc?.close();
  await redis?.stop(); // continues a paused server first
  svc = redis = undefined;
});

const BUDGET_MS = 100;
// Generous: the box is shared and noisy; the point is "answers near the budget, not after seconds".
const WITHIN_BUDGET_MS = BUDGET_MS + 900;

describe('breaker on', () => {
  it('paused Redis: flagged degraded reads within the budget, 503 writes with Retry-After, then recovery', async () => {
    redis = await startRedisServer();
    svc = await service(redis, { storeTimeoutMs: BUDGET_MS, breakerFailures: 3, breakerHalfOpenAfterMs: 300 });
    const c = new Client(svc.url);
    expect((await c.append('known', 'a', 'hello')).status).toBe(200);

    process.kill(redis.pid, 'SIGSTOP');
    try {
      const cached = await c.read('known');
      expect(cached.status).toBe(200);
      expect(cached.ms).toBeLessThan(WITHIN_BUDGET_MS);
      expect(cached.headers.get('x-state-mode')).toBe('degraded');
      expect(cached.body).toMatchObject({ mode: 'degraded', source: 'cache', turnCount: 1 });

      const unknown = await c.read('never-seen');
      expect(unknown.status).toBe(200);
      expect(unknown.body).toMatchObject({ mode: 'degraded', source: 'default', turnCount: 0, turns: [] });

      for (let i = 0; i < 4; i++) {
        const w = await c.append('known', `w${i}`, 'while paused');
        expect(w.status).toBe(503);
        expect(w.ms).toBeLessThan(WITHIN_BUDGET_MS);
        expect(w.headers.get('retry-after')).toBe('1');
        expect(w.headers.get('x-state-mode')).toBe('degraded');
        expect(w.body.code).toBe('store_unavailable');
      }
      const m = await c.metrics();
      expect(metricValue(m, 'stateproof_breaker_state')).toBe(1);
      expect(metricValue(m, 'stateproof_state_lifecycle_events_total{event="degrade"}')).toBeGreaterThanOrEqual(1);
      expect(metricValue(m, 'stateproof_degraded_responses_total')).toBeGreaterThanOrEqual(6);
      expect((await c.request('GET', '/healthz')).headers.get('x-state-mode')).toBe('degraded');
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }

    // Half-open probe after 300 ms closes the breaker again.
    let after;
    const deadline = Date.now() + 10_000;
    do {
      await sleep(150);
      after = await c.append('known', 'b', 'after resume');
    } while (after.status !== 200 && Date.now() < deadline);
    expect(after.status).toBe(200);
    const r = await c.read('known');
    expect(r.body.mode).toBe('normal');
    // Writes answered 503 were not applied, even though their commands may have reached Redis late.
    expect(r.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['a', 'b']);
    expect(metricValue(await c.metrics(), 'stateproof_breaker_state')).toBe(0);
  });

  it('a write answered 503 on timeout is not applied when the stalled store catches up', async () => {
    redis = await startRedisServer();
    svc = await service(redis, { storeTimeoutMs: 200 });
    const c = new Client(svc.url);
    await c.append('late', 'a', 'one');
    const admin = await redisClient(redis);
    try {
      // Writes (and scripts that may write) wait; reads go on: the load succeeds, the CAS stalls.
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE');
      const w = await c.append('late', 'b', 'stalled');
      expect(w.status).toBe(503);
      expect(w.body.code).toBe('store_unavailable');
      await sleep(2_000); // the pause ends; the queued EVALSHA runs past its deadline and refuses
      expect(await admin.zscore('sp:{tenant-a}:turnids:late', 'b')).toBeNull();
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      admin.disconnect();
    }
    const r = await c.read('late');
    expect(r.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['a']);
    expect((await c.append('late', 'b', 'retried')).body).toMatchObject({ applied: true, revision: 2 });
  });

  it('stopped Redis: degraded reads and 503 writes, never a 500', async () => {
    redis = await startRedisServer();
    svc = await service(redis, { storeTimeoutMs: BUDGET_MS });
    const c = new Client(svc.url);
    await c.append('s', 'a', 'hello');
    await redis.kill9();
    for (let i = 0; i < 8; i++) {
      const r = await c.read('s');
      expect(r.status).toBe(200);
      expect(r.body.mode).toBe('degraded');
      const w = await c.append('s', `x${i}`, 'lost?');
      expect(w.status).toBe(503);
      expect(w.headers.get('retry-after')).not.toBeNull();
      const d = await c.remove('s');
      expect(d.status).toBe(503);
    }
  });
});

describe('breaker off', () => {
  it('stopped Redis: store errors become 500s', async () => {
    redis = await startRedisServer();
    svc = await service(redis, { unsafe: ['breaker'] });
    const c = new Client(svc.url);
    await c.append('s', 'a', 'hello');
    await redis.kill9();
    const r = await c.read('s');
    expect(r.status).toBe(500);
    expect(r.body.code).toBe('internal_error');
    expect(r.headers.get('x-state-mode')).toBe('normal'); // unflagged
    const w = await c.append('s', 'b', 'x');
    expect(w.status).toBe(500);
    expect(metricValue(await c.metrics(), 'stateproof_degraded_responses_total')).toBe(0);
  });
});
