/**
 * The second proof set: small contract-speaking backends of our own (test/backend/fixtures), not
 * the reference service, judged through a backend profile alone. Each has one realistic defect,
 * and the run must fail naming the invariant that exists for it; the correct one, with its own
 * metric names and bounds, must pass with no false alarm; one that declares no TTL fails
 * idle-expired with the consequence measured, and passes once that is waived, showing the waiver.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile, resolveProfile, type BackendProfile } from '../../src/backend/profile.ts';
import { knownInvariantNames } from '../../src/backend/invariant-names.ts';
import { runScenario } from '../../src/run/run-scenario.ts';
import { startContractBackend, type ContractBackend, type ContractBackendOptions, type Defect } from '../backend/fixtures/contract-backend.ts';

let outDir: string;
const started: ContractBackend[] = [];
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-profiles-'));
});
afterAll(async () => {
  await Promise.all(started.map((b) => b.close()));
  await rm(outDir, { recursive: true, force: true });
});

const tokens = { 'acme-token-1': 'acme', 'globex-token-2': 'globex' };
const bounds = { windowTurns: 8, ttlSeconds: 3, maxTurnBytes: 4096 };

async function backend(o: Partial<ContractBackendOptions> & { instances?: number }): Promise<ContractBackend> {
  const b = await startContractBackend({ tokens, windowTurns: bounds.windowTurns, ttlSeconds: bounds.ttlSeconds, maxTurnBytes: bounds.maxTurnBytes, ...o });
  started.push(b);
  return b;
}

function profileOf(b: ContractBackend, extra: BackendProfile = {}) {
  const declared: BackendProfile = {
    name: 'acme',
    instances: b.urls,
    tenants: Object.keys(tokens),
    bounds,
    capabilities: { readModes: ['strong', 'bounded', 'eventual'] },
    metrics: { conflicts: 'acme_store_conflicts', degradedResponses: 'acme_degraded_answers', lifecycleEvents: 'acme_session_events' },
    versions: { 'acme-memory': '2.4.1' },
    ...extra,
  };
  return resolveProfile(parseProfile(declared, 'test profile', knownInvariantNames()), 'test profile');
}

async function run(scenario: string, b: ContractBackend, extra?: BackendProfile) {
  const o = await runScenario({ scenario, backend: profileOf(b, extra), outDir, log: () => {} });
  const by = (status: string) => o.result.invariants.filter((i) => i.status === status).map((i) => i.name);
  return { o, failed: o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`), by };
}

describe('backends judged by their profile alone', () => {
  it('a correct backend with its own metric names and bounds passes cross-instance on two instances and two tenants', async () => {
    const { o, failed, by } = await run('cross-instance', await backend({ instances: 2 }));
    expect(failed).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(by('held')).toEqual(expect.arrayContaining(['no-lost-writes', 'no-duplicates', 'revision-per-turn', 'turn-order', 'tenant-isolation', 'metrics-agree']));
    expect(o.result.invariants.find((i) => i.name === 'no-lost-writes')!.evidence).toMatch(/^[\d,]+ acknowledged writes in [\d,]+ sessions$/);
    // The backend and the versions its profile declares are in result.json and in every report.
    expect(o.result.scenario.backend).toBe('acme');
    expect(o.result.environment.backend).toEqual({ name: 'acme', versions: { 'acme-memory': '2.4.1' } });
    for (const file of ['summary.md', 'index.html']) expect(readFileSync(path.join(o.runDir, file), 'utf8'), file).toContain('acme (acme-memory 2.4.1)');
  });

  it('a correct backend passes long-session with its own TTL and window, and store-outage with no fault it can reach', async () => {
    const long = await run('long-session', await backend({}));
    expect(long.failed).toEqual([]);
    const outage = await run('store-outage', await backend({}));
    expect(outage.failed).toEqual([]);
    expect(outage.by('not-applicable')).toEqual(expect.arrayContaining(['fault-p99-within-budget', 'recovers-within-5s']));
  });

  const defects: Array<[Defect, string, string]> = [
    ['replay-reapplies', 'cross-instance', 'no-duplicates'],
    ['revision-skips', 'cross-instance', 'revision-per-turn'],
    ['reorders', 'cross-instance', 'turn-order'],
    ['tenant-leak', 'cross-instance', 'tenant-isolation'],
    ['split-brain', 'cross-instance', 'no-lost-writes'],
    ['unbounded-growth', 'long-session', 'no-unbounded-growth'],
  ];
  for (const [defect, scenario, invariant] of defects) {
    it(`${defect}: ${scenario} fails naming ${invariant}`, async () => {
      const { o, failed } = await run(scenario, await backend({ defect, instances: defect === 'split-brain' ? 2 : 1 }));
      expect(o.exitCode).toBe(1);
      expect(failed.map((f) => f.split(':')[0])).toContain(invariant);
    });
  }

  it('no TTL declared: idle-expired fails with what the idle sessions keep; waived, it passes and says why', async () => {
    // A fresh backend per run: scenarios use the same session ids every run, and these never expire.
    const noTtl = { bounds: { windowTurns: 8, ttlSeconds: null, maxTurnBytes: 4096 } } satisfies BackendProfile;
    const failing = await run('long-session', await backend({ ttlSeconds: null }), noTtl);
    expect(failing.failed).toEqual([expect.stringMatching(/^idle-expired: idle sessions never expire: 3 of 3 idle sessions still held after \d+\.\d s.*the backend declares no TTL/)]);
    const waived = await run('long-session', await backend({ ttlSeconds: null }), { ...noTtl, waive: { 'idle-expired': 'sessions are kept for the audit team' } });
    expect(waived.failed).toEqual([]);
    expect(waived.o.result.invariants.find((i) => i.name === 'idle-expired')).toMatchObject({ status: 'waived', reason: 'sessions are kept for the audit team' });
  });
});
