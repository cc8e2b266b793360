/**
 * The scenario-level invariants on hand-written histories: each must flag what it exists for and
 * must not flag its look-alikes (noise in one tail, a fault's own ops, an idle read before the TTL).
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/record/history.ts';
import { checkFaultLatency, checkRecovery } from '../../src/check/scenario/fault-windows.ts';
import { checkRedirectsFollowed } from '../../src/check/scenario/redirects.ts';
import { checkIdleExpired, checkLatencyFlat, checkOversizedRejected, checkPinnedFacts, checkTtlSet, checkBytesWithinCap } from '../../src/check/scenario/bounded-growth.ts';

let nextId = 1;
function op(p: Partial<HistoryEntry> & { startMs: number; ms?: number }): HistoryEntry {
  const { ms = 1, ...rest } = p;
  return { id: nextId++, vu: 1, op: 'append', session: 's', outcome: 'ok', status: 200, mode: 'normal', intendedStartMs: p.startMs, endMs: p.startMs + ms, ...rest };
}

/** n appends to `session` from `t0`, 10 ms apart, each taking latency(i) ms. */
function appends(session: string, n: number, t0: number, latency: (i: number) => number): HistoryEntry[] {
  return Array.from({ length: n }, (_, i) => op({ session, turnId: `${session}-t${i}`, startMs: t0 + i * 10, ms: latency(i) }));
}

describe('latency-flat', () => {
  it('flags a session whose last appends are slower across the distribution', () => {
    const h = [...appends('long', 300, 0, (i) => (i < 200 ? 2 : 8)), ...appends('long-fresh', 100, 2000, () => 2)];
    const r = checkLatencyFlat(h, { baselineSuffix: '-fresh' });
    expect(r.result.holds).toBe(false);
    expect(r.result.anomalies[0]!.message).toMatch(/median moved/);
  });
  it('does not flag a tail that moved alone (noise), nor equal distributions', () => {
    const noisy = [...appends('long', 300, 0, (i) => (i === 250 || i === 260 ? 40 : 2)), ...appends('long-fresh', 100, 2000, () => 2)];
    expect(checkLatencyFlat(noisy, { baselineSuffix: '-fresh' }).result.holds).toBe(true);
    const flat = appends('s', 300, 0, () => 3);
    expect(checkLatencyFlat(flat).result.holds).toBe(true);
  });
  it('says when it could not judge', () => {
    const r = checkLatencyFlat(appends('s', 50, 0, () => 1));
    expect(r.result.holds).toBe(false);
    expect(r.result.anomalies[0]!.type).toBe('not-observed');
  });
});

describe('fault windows', () => {
  const windows = [{ id: 'down', startMs: 1000, endMs: 2000 }];
  it('flags a fault whose answers took longer than budget + 50 ms, naming the slowest ops', () => {
    const h = Array.from({ length: 20 }, (_, i) => op({ startMs: 1000 + i * 40, ms: i < 3 ? 900 : 20 }));
    const r = checkFaultLatency(h, windows, 100);
    expect(r.holds).toBe(false);
    expect(r.anomalies[0]!.ops).toHaveLength(5);
  });
  it('holds when answers come within the budget, whatever happens outside the fault', () => {
    const h = [op({ startMs: 500, ms: 5000 }), ...Array.from({ length: 20 }, (_, i) => op({ startMs: 1000 + i * 40, ms: 120 }))];
    expect(checkFaultLatency(h, windows, 100).holds).toBe(true);
  });
  it('measures time to recover and flags recovery slower than 5 s', () => {
    const degradedUntil = (t: number) => (t < 2600 ? { mode: 'degraded' as const, status: 503, outcome: 'unknown' as const } : {});
    const quick = Array.from({ length: 40 }, (_, i) => op({ startMs: 2000 + i * 100, ...degradedUntil(2000 + i * 100) }));
    const r = checkRecovery(quick, windows);
    expect(r.result.holds).toBe(true);
    expect(r.measures[0]!.timeToRecoverMs).toBe(600);
    const slow = Array.from({ length: 80 }, (_, i) => op({ startMs: 2000 + i * 100, ...(2000 + i * 100 < 7500 ? { mode: 'degraded' as const } : {}) }));
    expect(checkRecovery(slow, windows).result.holds).toBe(false);
  });
  it('leaves ops still in flight when the next fault began to that fault', () => {
    const two = [{ id: 'a', startMs: 1000, endMs: 2000 }, { id: 'b', startMs: 3000, endMs: 4000 }];
    const h = [op({ startMs: 2100 }), op({ startMs: 2950, ms: 200, status: 503, mode: 'degraded', outcome: 'unknown' })];
    expect(checkRecovery(h, two).result.holds).toBe(true);
  });
});

describe('bounded growth', () => {
  it('idle sessions: a read after the TTL that still finds one is flagged; a read before it is not', () => {
    const write = op({ session: 'idle-0', turnId: 'x', startMs: 0 });
    const early = op({ op: 'read', session: 'idle-0', startMs: 3000, status: 200 });
    const late = op({ op: 'read', session: 'idle-0', startMs: 7000, status: 200 });
    expect(checkIdleExpired([write, early], 'idle-', 5).holds).toBe(false); // nothing judged: says so
    expect(checkIdleExpired([write, early, { ...late, status: 404 }], 'idle-', 5).holds).toBe(true);
    expect(checkIdleExpired([write, late], 'idle-', 5).holds).toBe(false);
  });
  it('oversized turns must get 413 and never appear', () => {
    const refused = op({ turnId: 's-oversized', startMs: 0, status: 413, outcome: 'fail' });
    expect(checkOversizedRejected([refused]).holds).toBe(true);
    expect(checkOversizedRejected([{ ...refused, status: 200, outcome: 'ok' }]).holds).toBe(false);
    expect(checkOversizedRejected([refused, op({ op: 'read', startMs: 10, turnIds: ['s-oversized'] })]).holds).toBe(false);
  });
  it('pinned turns must be named in the last summary or window', () => {
    const pin = op({ turnId: 's-t49-pinned', startMs: 0 });
    const kept = op({ op: 'read', startMs: 100, summary: '40 earlier turns compacted. Pinned facts: fact s-t49-pinned: blue', turnIds: [] });
    expect(checkPinnedFacts([pin, kept]).holds).toBe(true);
    expect(checkPinnedFacts([pin, { ...kept, summary: '40 earlier turns compacted.' }]).holds).toBe(false);
  });
  it('size cap and TTL from reads and the store snapshot', () => {
    const snap = { tenant: 't', session: 's', schemaVersion: 3, revision: 1, turnCount: 1, turnIds: ['a'], bytes: 100, ttlSeconds: 60 };
    expect(checkBytesWithinCap([op({ op: 'read', startMs: 0, bytes: 900 })], [snap], 1000).holds).toBe(true);
    expect(checkBytesWithinCap([op({ op: 'read', startMs: 0, bytes: 1900 })], [snap], 1000).holds).toBe(false);
    expect(checkTtlSet([snap]).holds).toBe(true);
    expect(checkTtlSet([{ ...snap, ttlSeconds: -1 }]).holds).toBe(false);
  });
});

describe('redirects-followed', () => {
  it('holds when every answer is normal, and flags a 503 and a degraded 200 alike, naming the op', () => {
    const normal = [op({ startMs: 0 }), op({ startMs: 10, op: 'read' })];
    expect(checkRedirectsFollowed(normal).holds).toBe(true);
    const refused = op({ startMs: 20, status: 503, code: 'store_unavailable', mode: 'degraded', outcome: 'fail' });
    const degraded = op({ startMs: 30, op: 'read', mode: 'degraded' });
    const r = checkRedirectsFollowed([...normal, refused, degraded]);
    expect(r.holds).toBe(false);
    expect(r.anomalies.map((a) => a.ops)).toEqual([[refused.id], [degraded.id]]);
    expect(r.anomalies[0]!.message).toMatch(/got 503 store_unavailable \(degraded\) while the cluster was healthy/);
  });
});
