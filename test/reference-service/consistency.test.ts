import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, metricValue, redisClient, service, sleep, startRedisServer, type RedisServer } from './helpers.ts';
import { sessionKey } from '../../reference-service/store/keys.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

let primary: RedisServer;
let replica: RedisServer;
const services: ServiceHandle[] = [];
beforeAll(async () => {
  primary = await startRedisServer({ config: { 'repl-diskless-sync-delay': '0' } });
  replica = await startRedisServer({ config: { replicaof: `127.0.0.1 ${primary.port}` } });
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await replica?.stop();
  await primary?.stop();
});

async function start(cfg: Parameters<typeof service>[1] = {}): Promise<Client> {
  const s = await service(primary, cfg);
  services.push(s);
  return new Client(s.url);
}

describe('read consistency', () => {
  // Two readers, so that no assertion needs the machine to be fast: one whose bound (60 s) no
  // test step can outlast, and one whose bound (50 ms) a sleep of 300 ms is sure to exceed.
  it('strong reads the store; bounded serves a cached copy younger than the bound', async () => {
    const writer = await start({ instanceId: 'w' });
    const reader = await start({ instanceId: 'r', boundedStalenessMs: 60_000 });
    await writer.append('c1', 'a', 'one');
    expect((await reader.read('c1', 'strong')).body).toMatchObject({ revision: 1, source: 'store' }); // fills reader's cache
    await writer.append('c1', 'b', 'two');

    const bounded = await reader.read('c1', 'bounded');
    expect(bounded.body).toMatchObject({ revision: 1, source: 'cache', mode: 'normal' }); // stale, but within the bound
    expect(bounded.body.ageMs).toBeGreaterThanOrEqual(0);
    expect(bounded.body.ageMs).toBeLessThanOrEqual(60_000);
    expect((await reader.read('c1', 'strong')).body).toMatchObject({ revision: 2, source: 'store' });

    const m = await reader.metrics();
    expect(metricValue(m, 'stateproof_state_cache_total{tier="local",result="hit"}')).toBe(1);
    expect(metricValue(m, 'stateproof_state_cache_total{tier="local",result="miss"}') ?? 0).toBe(0);
  });

  it('bounded goes to the store once the cached copy is older than the bound; eventual serves it at any age', async () => {
    const writer = await start({ instanceId: 'w' });
    const reader = await start({ instanceId: 'r', boundedStalenessMs: 50 });
    await writer.append('c4', 'a', 'one');
    expect((await reader.read('c4', 'strong')).body).toMatchObject({ revision: 1, source: 'store' }); // fills reader's cache
    await writer.append('c4', 'b', 'two');
    await sleep(300);

    const eventual = await reader.read('c4', 'eventual');
    expect(eventual.body).toMatchObject({ revision: 1, source: 'cache' }); // any age
    expect(eventual.body.ageMs).toBeGreaterThan(50);
    const late = await reader.read('c4', 'bounded');
    expect(late.body).toMatchObject({ revision: 2, source: 'store' }); // cache too old: went to the store

    const m = await reader.metrics();
    expect(metricValue(m, 'stateproof_state_cache_total{tier="local",result="hit"}')).toBe(1);
    expect(metricValue(m, 'stateproof_state_cache_total{tier="local",result="miss"}')).toBe(1);
  });

  it('uses --default-consistency when the request names none', async () => {
    const writer = await start();
    const reader = await start({ defaultConsistency: 'eventual' });
    await writer.append('c2', 'a', 'one');
    await reader.read('c2', 'strong');
    await writer.append('c2', 'b', 'two');
    expect((await reader.read('c2')).body).toMatchObject({ revision: 1, source: 'cache' });
  });

  it('eventual reads go to the replica on a cache miss', async () => {
    const writer = await start();
    const reader = await start({ replicaRedisUrl: replica.url });
    await writer.append('c3', 'a', 'one');
    // Wait until the replica has it (a miss there would fall back to the primary and fill the cache).
    const direct = await redisClient(replica);
    try {
      const deadline = Date.now() + 10_000;
      while ((await direct.exists(sessionKey('tenant-a', 'c3'))) === 0 && Date.now() < deadline) await sleep(50);
    } finally {
      direct.disconnect();
    }
    const r = await reader.read('c3', 'eventual');
    expect(r.body).toMatchObject({ revision: 1, source: 'replica', mode: 'normal' });
    const m = await reader.metrics();
    expect(metricValue(m, 'stateproof_state_cache_total{tier="replica",result="hit"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'stateproof_state_op_duration_seconds_count{op="load",tier="replica"}')).toBeGreaterThanOrEqual(1);
  });
});
