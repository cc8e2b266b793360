/**
 * The cluster scenarios' ci profiles on a real 6-node Redis Cluster (3 primaries, 3 replicas),
 * end to end: the safe service holds every invariant, and with `--unsafe slot-aware` (the slot map
 * read once, every redirect an error) each fails naming the invariant that catches it.
 *
 *   resharding        slots move under load: no acknowledged write lost, duplicated or divergent, no
 *                     5xx or degraded answer (redirects-followed); unsafe: redirects-followed fails
 *   cluster-failover  a primary killed under load, the cluster promotes its replica: the loss of
 *                     acknowledged writes is measured (failover-loss-window) and service returns by
 *                     itself; unsafe: recovers-within-5s fails (shard 1 is never found again)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureFailoverLoss } from '../../src/check/scenario/failover-loss.ts';
import type { HistoryEntry } from '../../src/record/history.ts';
import { runScenario, type RunOutcome } from '../../src/run/run-scenario.ts';

let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-cluster-scenarios-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const run = (scenario: string, unsafe: string[] = []): Promise<RunOutcome> => runScenario({ scenario, unsafe, outDir, log: () => {} });
const failing = (o: RunOutcome) => o.result.invariants.filter((i) => !i.holds).map((i) => i.name);
const explain = (o: RunOutcome) =>
  o.result.invariants
    .filter((i) => !i.holds)
    .map((i) => `${i.name}: ${i.anomalies[0]?.message ?? ''}`)
    .concat(o.result.verdict.reasons, o.result.timeline.map((t) => `${t.id}: ${t.detail ?? t.undoError ?? ""}`))
    .join('\n');

describe('resharding (ci profile, redis-cluster)', () => {
  it('safe: slots move and come back under load, every redirect followed, nothing lost', async () => {
    const o = await run('resharding');
    expect(o.result.topology.description).toContain('redis-cluster');
    expect(failing(o), explain(o)).toEqual([]);
    expect(o.exitCode).toBe(0);
    const reshard = o.result.timeline.find((t) => t.id === 'reshard')!;
    expect(reshard.verified, reshard.detail).toBe(true);
    expect(reshard.undoError).toBeUndefined();
    expect(reshard.detail).toMatch(/moved slots 0-599 \(600 of 600\)/);
    expect(o.result.metrics.totals.count).toBeGreaterThan(300);
    process.stderr.write(`resharding: ${reshard.detail}; ${o.result.metrics.totals.count} operations\n`);
  });

  it('--unsafe slot-aware: fails naming redirects-followed', async () => {
    const o = await run('resharding', ['slot-aware']);
    expect(o.exitCode).toBe(1);
    expect(failing(o)).toContain('redirects-followed');
    expect(o.result.invariants.find((i) => i.name === 'redirects-followed')!.anomalies[0]!.message).toMatch(/a moved slot \(MOVED\/ASK\) was not followed/);
  });
});

describe('cluster-failover (ci profile, redis-cluster)', () => {
  it('safe: the cluster promotes the replica, the loss window is measured, service returns by itself', async () => {
    const o = await run('cluster-failover');
    expect(failing(o), explain(o)).toEqual([]);
    expect(o.exitCode).toBe(0);
    const failover = o.result.timeline.find((t) => t.id === 'failover')!;
    expect(failover.verified, failover.detail).toBe(true);
    expect(failover.undoError).toBeUndefined();
    expect(failover.detail).toMatch(/kill -9 of primary n\d .* promoted \d+ ms later/);
    const loss = o.result.invariants.find((i) => i.name === 'failover-loss-window')!;
    const figures = /(\d+) of (\d+) acknowledged writes lost across the failover/.exec(loss.description);
    expect(figures, loss.description).not.toBeNull();
    const history = JSON.parse(await readFile(path.join(o.runDir, 'history.json'), 'utf8')) as HistoryEntry[];
    const measured = measureFailoverLoss(history, { killAtMs: failover.actualStartMs! });
    expect(Number(figures![1])).toBe(measured.lost.length);
    expect(measured.acknowledged).toBeGreaterThan(300);
    process.stderr.write(`cluster-failover: ${failover.detail}; ${loss.description.slice(loss.description.indexOf('Measured'))}\n`);
  });

  it('--unsafe slot-aware: fails naming recovers-within-5s', async () => {
    const o = await run('cluster-failover', ['slot-aware']);
    expect(o.exitCode).toBe(1);
    expect(failing(o)).toContain('recovers-within-5s');
    expect(o.result.invariants.find((i) => i.name === 'recovers-within-5s')!.anomalies.length).toBeGreaterThan(0);
  });
});
