import { describe, expect, it } from 'vitest';
import { checkHistory, type InvariantName } from '../../src/check/index.ts';
import { HistoryBuilder, sequentialSession } from './history-builder.ts';

const inv = (b: HistoryBuilder, name: InvariantName, opts = {}) => checkHistory(b.entries, { invariants: [name], ...opts }).invariants[0]!;
const ALL: InvariantName[] = ['read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads', 'bounded-staleness', 'no-stale-strong-reads'];

describe('session guarantees', () => {
  it('all hold for a correct multi-client history', () => {
    const b = new HistoryBuilder();
    sequentialSession(b, 15, { vu: 1 });
    sequentialSession(b, 15, { vu: 2, session: 's2' });
    const r = checkHistory(b.entries, { invariants: ALL });
    expect(r.invariants.filter((i) => !i.holds)).toEqual([]);
  });

  it('read-your-writes: a strong read missing the client\'s acknowledged append', () => {
    const b = new HistoryBuilder();
    const a = b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const r = b.read({ ids: [], count: 0, at: 10 });
    expect(inv(b, 'read-your-writes').anomalies.map((x) => x.ops)).toEqual([[a.id, r.id]]);
  });

  it('read-your-writes: own turn missing from the window although counted', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'x', turnCount: 1, at: 0 });
    const a = b.append({ vu: 1, turnId: 't1', turnCount: 2, at: 10 });
    const r = b.read({ vu: 1, ids: ['x', 'y'], count: 2, at: 20 });
    expect(inv(b, 'read-your-writes').anomalies.map((x) => x.ops)).toEqual([[a.id, r.id]]);
  });

  it('read-your-writes: bounded reads within the bound, eventual and degraded reads are not flagged', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: [], count: 0, at: 100, consistency: 'bounded' });
    b.read({ ids: [], count: 0, at: 200, consistency: 'eventual' });
    b.read({ ids: [], count: 0, at: 300, mode: 'degraded' });
    b.read({ ids: [], count: 0, at: 9000, consistency: 'eventual' });
    expect(inv(b, 'read-your-writes', { stalenessBoundMs: 1000 }).holds).toBe(true);
    const late = b.read({ ids: [], count: 0, at: 2000, consistency: 'bounded' });
    const i = inv(b, 'read-your-writes', { stalenessBoundMs: 1000 });
    expect(i.anomalies.map((x) => x.ops[1])).toEqual([late.id]);
  });

  it('readMode sets the consistency of reads that name none', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: [], count: 0, at: 10 });
    expect(inv(b, 'read-your-writes', { readMode: 'eventual' }).holds).toBe(true);
    expect(inv(b, 'read-your-writes', { readMode: 'strong' }).holds).toBe(false);
  });

  it('monotonic-reads: a later read with fewer turns', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0 });
    const r1 = b.read({ ids: ['a'], count: 1, at: 10 });
    const r2 = b.read({ ids: [], count: 0, at: 20 });
    b.read({ vu: 3, ids: [], count: 0, at: 20 }); // another client reading less is not this client's regression
    expect(inv(b, 'monotonic-reads').anomalies.map((x) => x.ops)).toEqual([[r1.id, r2.id]]);
  });

  it('monotonic-reads: not flagged within the bound in bounded mode, nor for concurrent reads', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0 });
    b.read({ ids: ['a'], count: 1, at: 10, consistency: 'bounded' });
    b.read({ ids: [], count: 0, at: 20, consistency: 'bounded' });
    expect(inv(b, 'monotonic-reads', { stalenessBoundMs: 5000 }).holds).toBe(true);
    const c = new HistoryBuilder();
    c.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0 });
    c.read({ ids: ['a'], count: 1, at: 10, dur: 50 });
    c.read({ ids: [], count: 0, at: 20 }); // started before the first one ended
    expect(inv(c, 'monotonic-reads').holds).toBe(true);
  });

  it('monotonic-writes: acknowledged positions going backwards, or a window showing them swapped', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'x', turnCount: 1, at: 0 });
    const a1 = b.append({ turnId: 't1', turnCount: 3, at: 10 });
    const a2 = b.append({ turnId: 't2', turnCount: 2, at: 20 });
    const found = inv(b, 'monotonic-writes').anomalies;
    expect(found.map((x) => x.ops)).toEqual([[a1.id, a2.id]]);

    const c = new HistoryBuilder();
    const c1 = c.append({ turnId: 't1', turnCount: 1, at: 0 });
    const c2 = c.append({ turnId: 't2', turnCount: 2, at: 10 });
    const r = c.read({ vu: 2, ids: ['t2', 't1'], count: 2, at: 20 });
    expect(inv(c, 'monotonic-writes').anomalies.map((x) => x.ops)).toEqual([[c1.id, c2.id, r.id]]);
  });

  it('monotonic-writes: concurrent appends of one client may land in either order', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 2, at: 0, dur: 50 });
    b.append({ turnId: 't2', turnCount: 1, at: 10, dur: 10 });
    b.read({ vu: 2, ids: ['t2', 't1'], count: 2, at: 100 });
    expect(inv(b, 'monotonic-writes').holds).toBe(true);
  });

  it('writes-follow-reads: an append ordered before turns the client had read', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'x', turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'y', turnCount: 2, at: 10 });
    const r = b.read({ ids: ['x', 'y'], count: 2, at: 20 });
    const a = b.append({ turnId: 't1', turnCount: 2, at: 30 });
    expect(inv(b, 'writes-follow-reads').anomalies.map((x) => x.ops)).toEqual([[r.id, a.id]]);
    // a degraded read sets no expectation
    const c = new HistoryBuilder();
    c.append({ vu: 2, turnId: 'x', turnCount: 1, at: 0 });
    c.read({ ids: ['x', 'y'], count: 2, at: 20, mode: 'degraded' });
    c.append({ turnId: 't1', turnCount: 2, at: 30 });
    expect(inv(c, 'writes-follow-reads').holds).toBe(true);
  });
});

describe('staleness', () => {
  it('measures bounded reads and flags only those beyond the bound', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0, dur: 10 });
    b.read({ ids: [], count: 0, at: 1010, consistency: 'bounded' }); // 1000 ms stale
    const late = b.read({ ids: [], count: 0, at: 7010, consistency: 'bounded' }); // 7000 ms stale
    b.read({ ids: ['a'], count: 1, at: 8000, consistency: 'bounded' });
    const r = checkHistory(b.entries, { invariants: ['bounded-staleness'], stalenessBoundMs: 5000 });
    expect(r.invariants[0]!.anomalies.map((x) => x.ops)).toEqual([[1, late.id]]);
    expect(r.stats.staleness.bounded).toEqual({ reads: 3, staleReads: 2, maxMs: 7000, p50Ms: 1000, p99Ms: 7000 });
  });

  it('holds when every bounded read is within the bound', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0, dur: 10 });
    b.read({ ids: [], count: 0, at: 4000, consistency: 'bounded' });
    const r = checkHistory(b.entries, { invariants: ['bounded-staleness'], stalenessBoundMs: 5000 });
    expect(r.holds).toBe(true);
    expect(r.stats.staleness.bounded!.maxMs).toBe(3990);
  });

  it('no-stale-strong-reads: a strong read older than a completed acknowledgement', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 2, turnId: 'a', turnCount: 1, at: 0, dur: 10 });
    b.read({ ids: [], count: 0, at: 5 }); // concurrent: fine
    const r = b.read({ ids: [], count: 0, at: 20 });
    expect(inv(b, 'no-stale-strong-reads').anomalies.map((x) => x.ops)).toEqual([[1, r.id]]);
  });
});
