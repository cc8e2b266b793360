import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/index.ts';
import { HistoryBuilder, sequentialSession } from './history-builder.ts';

const lost = (b: HistoryBuilder, opts = {}) => {
  const r = checkHistory(b.entries, { invariants: ['no-lost-writes'], ...opts });
  return { inv: r.invariants[0]!, stats: r.stats.acknowledgedTurns };
};

describe('no-lost-writes', () => {
  it('holds for a correct session, with turns compacted out of the window counted only', () => {
    const b = new HistoryBuilder();
    sequentialSession(b, 25);
    const { inv, stats } = lost(b);
    expect(inv.holds).toBe(true);
    expect(stats.total).toBe(25);
    expect(stats.lost).toBe(0);
    // every turn was in the window of the last read that covered its position
    expect(stats.seenInWindow).toBe(25);
  });

  it('counts turns compacted before any read covered them as counted only', () => {
    const b = new HistoryBuilder();
    for (let i = 1; i <= 15; i++) b.append({ turnId: `t${i}`, turnCount: i, at: i * 10 });
    b.read({ ids: Array.from({ length: 10 }, (_, i) => `t${i + 6}`), count: 15, at: 500 });
    const { inv, stats } = lost(b);
    expect(inv.holds).toBe(true);
    expect(stats).toMatchObject({ countedOnly: 5, seenInWindow: 10, lost: 0 });
  });

  it('flags an overwritten turn even after it was compacted away, at the last read covering it', () => {
    const b = new HistoryBuilder();
    const a = b.append({ vu: 1, turnId: 'a', turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'b', turnCount: 1, at: 0 });
    const r = b.read({ ids: ['b'], count: 1, at: 20 });
    for (let i = 2; i <= 20; i++) b.append({ vu: 2, turnId: `t${i}`, turnCount: i, at: i * 10 + 100 });
    b.read({ ids: Array.from({ length: 10 }, (_, i) => `t${i + 11}`), count: 20, at: 1000 });
    expect(lost(b).inv.anomalies.map((x) => x.ops)).toEqual([[a.id, r.id]]);
  });

  it('flags an acknowledged turn that a later read does not count', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const ack = b.append({ turnId: 't2', turnCount: 2, at: 10 });
    const r = b.read({ ids: ['t1'], count: 1, at: 30 });
    const { inv } = lost(b);
    expect(inv.holds).toBe(false);
    expect(inv.anomalies).toHaveLength(1);
    expect(inv.anomalies[0]).toMatchObject({ type: 'lost-write', session: 's1', ops: [ack.id, r.id] });
    expect(inv.anomalies[0]!.message).toMatch(/does not count it/);
  });

  it('a turn id shown twice takes one position: the turn just before the window is counted only, not lost', () => {
    // A backend that stored t4 twice answers four ids for three distinct turns. Placed one id per
    // position, the read would vouch for t1's position too, and t1 (outside the window) would be "lost".
    const b = new HistoryBuilder();
    for (let i = 1; i <= 4; i++) b.append({ turnId: `t${i}`, turnCount: i, at: i * 10 });
    b.read({ ids: ['t2', 't3', 't4', 't4'], count: 4, at: 100 });
    const { inv, stats } = lost(b, { windowTurns: 1 });
    expect(inv.anomalies).toEqual([]);
    expect(stats).toMatchObject({ lost: 0, countedOnly: 1 });
    // Without the duplicate the same read vouches for four positions, and t1's absence is a loss.
    const c = new HistoryBuilder();
    for (let i = 1; i <= 4; i++) c.append({ turnId: `t${i}`, turnCount: i, at: i * 10 });
    c.read({ ids: ['t2', 't3', 't4', 't5'], count: 4, at: 100 });
    expect(lost(c, { windowTurns: 1 }).stats.lost).toBe(1);
  });

  it('flags a turn counted but missing from the window where it should be', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const ack = b.append({ turnId: 't2', turnCount: 2, at: 10 });
    b.append({ turnId: 't3', turnCount: 3, at: 20 });
    const r = b.read({ ids: ['t1', 't3'], count: 3, at: 40 });
    const { inv } = lost(b, { windowTurns: 10 });
    expect(inv.anomalies.map((a) => a.ops)).toEqual([[ack.id, r.id]]);
    expect(inv.anomalies[0]!.message).toMatch(/inside the window/);
  });

  it('uses the window size: a short window answer does not excuse a missing turn', () => {
    const b = new HistoryBuilder();
    for (let i = 1; i <= 5; i++) b.append({ turnId: `t${i}`, turnCount: i, at: i * 10 });
    b.read({ ids: ['t4', 't5'], count: 5, at: 100 });
    expect(lost(b, { windowTurns: 10 }).inv.anomalies).toHaveLength(3);
    // with a window of 2 the service rightly compacted t1..t3
    expect(lost(b, { windowTurns: 2 }).inv.holds).toBe(true);
  });

  it('bounds the position of an applied:false acknowledgement from the reads before it', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: ['t1'], count: 1, at: 10 });
    b.append({ turnId: 't2', outcome: 'unknown', at: 20, dur: 100 });
    const ack = b.append({ turnId: 't2', applied: false, turnCount: 2, at: 130 });
    const r = b.read({ ids: ['t1'], count: 1, at: 150 });
    expect(lost(b).inv.anomalies.map((a) => a.ops)).toEqual([[ack.id, r.id]]);
  });

  it('flags an acknowledged turn when the session later reads as 404 (flushed)', () => {
    const b = new HistoryBuilder();
    const ack = b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const r = b.read({ status: 404, turnIds: undefined, count: 0, at: 20 });
    expect(lost(b).inv.anomalies.map((a) => a.ops)).toEqual([[ack.id, r.id]]);
  });

  it('never flags a write whose outcome is unknown or failed', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.append({ turnId: 't2', outcome: 'unknown', at: 10, dur: 5000 });
    b.append({ turnId: 't3', outcome: 'fail', status: 503, at: 20 });
    b.read({ ids: ['t1'], count: 1, at: 6000 });
    const { inv, stats } = lost(b);
    expect(inv.holds).toBe(true);
    expect(stats.total).toBe(1);
  });

  it('does not count a transient miss repaired by a later read as lost', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: [], count: 0, at: 10 });
    b.read({ ids: ['t1'], count: 1, at: 20 });
    expect(lost(b).inv.holds).toBe(true);
  });

  it('ignores degraded, eventual and within-bound bounded reads as witnesses', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: [], count: 0, at: 10, mode: 'degraded' });
    b.read({ ids: [], count: 0, at: 20, consistency: 'eventual' });
    b.read({ ids: [], count: 0, at: 30, consistency: 'bounded' });
    const { inv, stats } = lost(b, { stalenessBoundMs: 1000 });
    expect(inv.holds).toBe(true);
    expect(stats.unverified).toBe(1);
    // ...but a bounded read past the bound is a witness
    b.read({ ids: [], count: 0, at: 2000, consistency: 'bounded' });
    expect(lost(b, { stalenessBoundMs: 1000 }).inv.holds).toBe(false);
  });

  it('starts over after a delete (an empty session after DELETE is no loss)', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.delete({ at: 10 });
    b.read({ status: 404, turnIds: undefined, count: 0, at: 30 });
    expect(lost(b).inv.holds).toBe(true);
  });

  it('starts over after a TTL gap when sessionTtlMs is given', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ status: 404, turnIds: undefined, count: 0, at: 5000 });
    expect(lost(b).inv.holds).toBe(false);
    expect(lost(b, { sessionTtlMs: 1000 }).inv.holds).toBe(true);
  });

  it('flags the lost update of a writer overwritten by a concurrent one', () => {
    const b = new HistoryBuilder();
    const a = b.append({ vu: 1, turnId: 'a', turnCount: 1, at: 0, dur: 20 });
    b.append({ vu: 2, turnId: 'b', turnCount: 1, at: 5, dur: 20 });
    b.read({ ids: ['b'], count: 1, at: 50 });
    const { inv } = lost(b);
    expect(inv.anomalies).toHaveLength(1);
    expect(inv.anomalies[0]!.ops[0]).toBe(a.id);
  });
});
