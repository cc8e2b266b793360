/**
 * The failover scenario's ci profile, end to end on real processes: redis primary + async replica,
 * two reference-service instances, the fault proxy, the router. The primary is killed with kill -9
 * mid-load, the replica promoted and the proxies re-pointed.
 *
 * Safe service: the verdict passes, the loss of acknowledged writes is measured and reported, and
 * it is exactly what the general lost-write checker sees in the same history (so the figure is
 * not an artefact of the failover invariant's own logic), and the outage between the kill and the
 * promotion is answered with 503s and flagged degraded answers, not 500s.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/index.ts';
import { measureFailoverLoss } from '../../src/check/scenario/failover-loss.ts';
import type { HistoryEntry } from '../../src/record/history.ts';
import { runScenario, type RunOutcome } from '../../src/run/run-scenario.ts';

let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-failover-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

const run = (): Promise<RunOutcome> => runScenario({ scenario: 'failover', outDir, log: () => {} });

function explain(o: RunOutcome): string {
  return o.result.invariants
    .filter((i) => !i.holds)
    .map((i) => `${i.name}: ${i.anomalies[0]?.message ?? ''}`)
    .concat(o.result.verdict.reasons)
    .join('\n');
}

describe('failover scenario (ci profile)', () => {
  it('safe service: passes, and reports the acknowledged writes lost across the failover', async () => {
    const o = await run();
    const failing = o.result.invariants.filter((i) => !i.holds).map((i) => i.name);
    expect(failing, explain(o)).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(o.result.invariants.map((i) => i.name)).toEqual(expect.arrayContaining(['failover-loss-window', 'no-duplicates', 'no-divergence-after-failover', 'no-store-5xx']));
    expect(o.result.invariants.map((i) => i.name)).not.toContain('no-lost-writes');

    const failover = o.result.timeline.find((t) => t.id === 'failover')!;
    expect(failover.verified, failover.undoError).toBe(true);
    expect(failover.undoError).toBeUndefined();

    // The figures are in the report, and they are what the history says.
    const loss = o.result.invariants.find((i) => i.name === 'failover-loss-window')!;
    const figures = /(\d+) of (\d+) acknowledged writes lost across the failover \((\d+) within the 1000 ms before the kill/.exec(loss.description);
    expect(figures, loss.description).not.toBeNull();
    expect(loss.anomalies[0]!.type).toBe('failover-loss-measured');
    expect(loss.description).toMatch(/writes resumed \+\d+ ms after the kill/);
    const history = JSON.parse(await readFile(path.join(o.runDir, 'history.json'), 'utf8')) as HistoryEntry[];
    const measured = measureFailoverLoss(history, { killAtMs: failover.actualStartMs! });
    expect(Number(figures![1])).toBe(measured.lost.length);
    expect(Number(figures![2])).toBe(measured.acknowledged);
    expect(measured.acknowledged).toBeGreaterThan(300);
    expect(measured.unverified).toBe(0);
    if (measured.window) expect(loss.description).toMatch(/window of loss \d+ ms \(acks from [-+]\d+ ms to [-+]\d+ ms relative to the kill\)/);

    // The general checker flags the same turns as lost: the failover invariant measures, it does not hide.
    const general = checkHistory(history, { invariants: ['no-lost-writes'], windowTurns: 64 }).invariants[0]!;
    const lostByChecker = new Set(general.anomalies.map((a) => /turn (\S+) acknowledged/.exec(a.message)?.[1]));
    expect(lostByChecker).toEqual(new Set(measured.lost.map((l) => l.turnId)));

    // While no primary answered, the breaker turned writes into 503s (not hangs, not 500s).
    const killAt = failover.actualStartMs!;
    const outage = history.filter((e) => e.op === 'append' && e.startMs >= killAt + 250 && e.startMs < killAt + 900);
    expect(outage.length).toBeGreaterThan(5);
    expect(outage.filter((e) => e.status === 503).length, JSON.stringify(outage.map((e) => [e.status, e.code]))).toBeGreaterThan(outage.length / 2);
    expect(history.some((e) => e.mode === 'degraded')).toBe(true);
  });
});
