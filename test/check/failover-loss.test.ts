/**
 * failover-loss-window and no-divergence-after-failover on hand-written histories: a loss inside
 * the window before the kill holds (and is measured), a loss of a write sent after the kill or
 * acknowledged long before it fails, compacted windows are unverifiable rather than lost.
 */
import { describe, expect, it } from 'vitest';
import { checkDivergenceAfterFailover, checkFailoverLoss, failoverFromWindows, measureFailoverLoss } from '../../src/check/scenario/failover-loss.ts';
import { HistoryBuilder } from './history-builder.ts';

const KILL = 10_000;

/** a1 long before the kill, a2 acknowledged 200 ms before it, a3 sent 2 s after it. */
function history(finalIds: string[], count = finalIds.length): HistoryBuilder {
  const h = new HistoryBuilder();
  h.append({ turnId: 'a1', at: 1_000, turnCount: 1 });
  h.append({ turnId: 'a2', at: KILL - 250, dur: 50, turnCount: 2 });
  h.append({ turnId: 'a3', at: KILL + 2_000, turnCount: 2 });
  h.read({ at: KILL + 5_000, ids: finalIds, count });
  return h;
}

describe('failover-loss-window', () => {
  it('holds when the only loss is a write acknowledged just before the kill, and reports it', () => {
    const h = history(['a1', 'a3']);
    const r = checkFailoverLoss(h.entries, { killAtMs: KILL });
    expect(r.holds).toBe(true);
    expect(r.description).toMatch(/1 of 3 acknowledged writes lost/);
    expect(r.anomalies[0]!.type).toBe('failover-loss-measured');
    expect(r.anomalies[0]!.message).toMatch(/1 within the 1000 ms before the kill/);
    expect(r.anomalies[1]).toMatchObject({ type: 'lost-in-failover-window', session: 's1', ops: [2, 4] });
    const m = measureFailoverLoss(h.entries, { killAtMs: KILL });
    expect(m.window).toEqual({ firstRelMs: -200, lastRelMs: -200, ms: 0 });
    expect(m.writesResumedRelMs).toBe(2_005);
  });

  it('fails when a write sent after the kill is lost', () => {
    const r = checkFailoverLoss(history(['a1', 'a2']).entries, { killAtMs: KILL });
    expect(r.holds).toBe(false);
    expect(r.anomalies.map((a) => a.type)).toEqual(['failover-loss-measured', 'lost-after-failover']);
    expect(r.anomalies[1]!.message).toMatch(/turn a3 acknowledged by op 3 at \+2005 ms/);
  });

  it('fails when a write acknowledged well before the window is lost', () => {
    const r = checkFailoverLoss(history(['a2', 'a3']).entries, { killAtMs: KILL });
    expect(r.holds).toBe(false);
    expect(r.anomalies[1]!.type).toBe('lost-before-failover-window');
    // A wider grace window (a replica known to lag more) accepts it.
    expect(checkFailoverLoss(history(['a2', 'a3']).entries, { killAtMs: KILL, graceMs: 10_000 }).holds).toBe(true);
  });

  it('holds with nothing lost, and says so', () => {
    const r = checkFailoverLoss(history(['a1', 'a2', 'a3']).entries, { killAtMs: KILL });
    expect(r.holds).toBe(true);
    expect(r.anomalies).toHaveLength(1);
    expect(r.anomalies[0]!.message).toMatch(/^0 of 3 acknowledged writes lost.*no window of loss/);
  });

  it('does not call a turn lost when the final window was compacted (it may be in the summary)', () => {
    const m = measureFailoverLoss(history(['a3'], 12).entries, { killAtMs: KILL });
    expect(m.lost).toEqual([]);
    expect(m.unverified).toBe(2);
  });

  it('judges only by trustworthy reads made after the failover: not degraded, not eventual, not before the kill', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 'a1', at: KILL + 1_000, turnCount: 1 });
    h.read({ at: KILL + 3_000, ids: [], count: 0, mode: 'degraded' });
    h.read({ at: KILL + 3_100, ids: [], count: 0, consistency: 'eventual' });
    const m = measureFailoverLoss(h.entries, { killAtMs: KILL });
    expect(m).toMatchObject({ acknowledged: 1, verified: 0, unverified: 1, lost: [] });
  });

  it('a 404 after the failover proves every acknowledged turn of that session lost', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 'a1', at: KILL - 100, turnCount: 1 });
    h.read({ at: KILL + 3_000, status: 404, ids: [], count: 0 });
    const r = checkFailoverLoss(h.entries, { killAtMs: KILL });
    expect(r.holds).toBe(true);
    expect(r.anomalies[1]!.type).toBe('lost-in-failover-window');
  });

  it('fails, naming the reason, when no failover fault ran', () => {
    expect(failoverFromWindows([{ id: 'other', startMs: 5 }])).toBeUndefined();
    expect(failoverFromWindows([{ id: 'failover', startMs: 5 }])).toEqual({ killAtMs: 5 });
    const r = checkFailoverLoss(history(['a1']).entries, undefined);
    expect(r.holds).toBe(false);
    expect(r.anomalies[0]!.type).toBe('no-failover');
  });
});

describe('no-divergence-after-failover', () => {
  it('ignores the fork between a read before the kill and reads after it, but not a fork after it', () => {
    const h = new HistoryBuilder();
    h.read({ at: KILL - 50, ids: ['a1', 'lost'], count: 2 });
    h.read({ at: KILL + 3_000, ids: ['a1', 'b1'], count: 2 });
    expect(checkDivergenceAfterFailover(h.entries, { killAtMs: KILL }).holds).toBe(true);
    h.read({ at: KILL + 4_000, ids: ['a1', 'c1'], count: 2 });
    const r = checkDivergenceAfterFailover(h.entries, { killAtMs: KILL });
    expect(r.holds).toBe(false);
    expect(r.anomalies[0]).toMatchObject({ type: 'divergence', ops: [2, 3] });
  });
});
