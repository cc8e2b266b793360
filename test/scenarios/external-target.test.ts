/**
 * Pointing stateproof at a backend someone else runs (--target): here a topology this test starts
 * itself, with its own tenant and token, which the run must use (-e STATEPROOF_TOKEN) instead of
 * the embedded topology's defaults. The store snapshot comes from the Redis URL the user gives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/run-scenario.ts';
import { resolveProfile } from '../../src/backend/profile.ts';
import { startTopology, type Topology } from '../../src/topology/index.ts';

let backend: Topology;
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-external-'));
  backend = await startTopology({
    instances: 1,
    router: 'round-robin',
    tenants: { acme: 'acme-secret-token' },
    // The settings the long-session scenario declares for the embedded topology.
    serviceArgs: ['--ttl-seconds', '5', '--max-turn-bytes', '8192', '--max-state-bytes', '51200', '--window-turns', '10', '--model-latency-ms', '0'],
    log: () => {},
  });
});
afterAll(async () => {
  await backend?.stop();
  await rm(outDir, { recursive: true, force: true });
});

describe('--target: an external backend', () => {
  it('runs long-session against it with the user-given token and judges it from history and its Redis', async () => {
    // --target with a profile that declares the bounds this backend was started with: a backend
    // is judged by what it declares (undeclared, its 5 s TTL would read as lost writes).
    const profile = resolveProfile(
      { instances: backend.routerUrl, bounds: { ttlSeconds: 5, windowTurns: 10, maxStateBytes: 51_200, maxTurnBytes: 8_192 }, capabilities: { pinnedFacts: true, summary: true } },
      'test profile',
    );
    const o = await runScenario({
      scenario: 'long-session',
      backend: profile,
      redisUrl: backend.redis!.url,
      env: { STATEPROOF_TOKEN: 'acme-secret-token' },
      outDir,
      log: () => {},
    });
    expect(o.result.metrics.byStatus['401'] ?? 0).toBe(0);
    expect(o.result.topology.provider).toBe('external');
    expect(o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
  });
});
