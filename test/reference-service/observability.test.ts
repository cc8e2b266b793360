import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, metricValue, service, startRedisServer, TOKEN_B, type RedisServer } from './helpers.ts';

let redis: RedisServer;
let dir: string;
beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'sp-audit-'));
});
afterAll(async () => {
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const STATE_METRICS = [
  'stateproof_state_op_duration_seconds',
  'stateproof_state_size_bytes',
  'stateproof_state_conflicts_total',
  'stateproof_state_cache_total',
  'stateproof_state_lifecycle_events_total',
  'stateproof_breaker_state',
  'stateproof_degraded_responses_total',
  'stateproof_http_requests_total',
];

async function traffic(c: Client) {
  await c.append('o1', 't1', 'hello');
  await c.append('o1', 't1', 'hello'); // replay
  await c.append('o1', 't2', 'x', 0); // conflict
  await c.read('o1');
  await c.read('o1', 'bounded');
  await new Client(c.url, TOKEN_B).read('o1'); // not found
  await c.remove('o1');
}

describe('observability on', () => {
  it('serves the state metrics and writes one audit record per session request', async () => {
    const auditFile = path.join(dir, 'on.log');
    const s = await service(redis, { auditLog: auditFile, instanceId: 'obs-1' });
    const c = new Client(s.url);
    try {
      await traffic(c);
      expect((await c.read('o1')).headers.get('x-stateproof-instance')).toBe('obs-1');
      const m = await c.metrics();
      for (const name of STATE_METRICS) expect(m, name).toContain(`# TYPE ${name}`);
      expect(m).toContain('process_cpu_user_seconds_total');
      expect(metricValue(m, 'stateproof_state_op_duration_seconds_count{op="load",tier="redis"}')).toBeGreaterThanOrEqual(4);
      expect(metricValue(m, 'stateproof_state_op_duration_seconds_count{op="save",tier="redis"}')).toBe(1);
      expect(metricValue(m, 'stateproof_state_op_duration_seconds_count{op="delete",tier="redis"}')).toBe(1);
      expect(metricValue(m, 'stateproof_state_size_bytes_count')).toBe(1);
      expect(metricValue(m, 'stateproof_state_lifecycle_events_total{event="create"}')).toBe(1);
      expect(metricValue(m, 'stateproof_state_conflicts_total')).toBe(1);
      expect(metricValue(m, 'stateproof_http_requests_total{route="turns",status="200"}')).toBe(2);
      expect(metricValue(m, 'stateproof_http_requests_total{route="turns",status="409"}')).toBe(1);
    } finally {
      await s.close();
    }
    const records = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => [r.op, r.result, r.status, r.tenant])).toEqual([
      ['append', 'applied', 200, 'tenant-a'],
      ['append', 'replayed', 200, 'tenant-a'],
      ['append', 'conflict', 409, 'tenant-a'],
      ['read', 'ok', 200, 'tenant-a'],
      ['read', 'ok', 200, 'tenant-a'],
      ['read', 'not_found', 404, 'tenant-b'],
      ['delete', 'ok', 204, 'tenant-a'],
      ['read', 'not_found', 404, 'tenant-a'],
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ msg: 'audit', instance: 'obs-1', session: 'o1' });
      expect(typeof r.time).toBe('number');
      expect(Math.abs(r.time - Date.now())).toBeLessThan(60_000);
    }
    expect(records[0]).toMatchObject({ turnId: 't1', revision: 1, turnCount: 1, schemaVersion: 3 });
    expect(records[2]).toMatchObject({ turnId: 't2' });
  });
});

describe('observability off', () => {
  it('serves only process defaults and writes no audit records', async () => {
    const auditFile = path.join(dir, 'off.log');
    const s = await service(redis, { auditLog: auditFile, unsafe: ['observability'] });
    const c = new Client(s.url);
    try {
      await traffic(c);
      const m = await c.metrics();
      expect(m).toContain('process_cpu_user_seconds_total');
      expect(m).not.toContain('stateproof_');
    } finally {
      await s.close();
    }
    await expect(readFile(auditFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
