import { describe, expect, it } from 'vitest';
import { checkHistory, type InvariantName } from '../../src/check/index.ts';
import { HistoryBuilder, sequentialSession } from './history-builder.ts';

const inv = (b: HistoryBuilder, name: InvariantName, opts = {}) => checkHistory(b.entries, { invariants: [name], ...opts }).invariants[0]!;

describe('no-phantom-writes', () => {
  it('flags a turn whose every append definitely failed', () => {
    const b = new HistoryBuilder();
    const f = b.append({ turnId: 't1', outcome: 'fail', status: 413, at: 0 });
    const r = b.read({ ids: ['t1'], count: 1, at: 10 });
    const i = inv(b, 'no-phantom-writes');
    expect(i.anomalies).toEqual([expect.objectContaining({ type: 'phantom-write', ops: [r.id, f.id] })]);
    expect(i.anomalies[0]!.message).toMatch(/definitely failed/);
  });

  it('flags a turn never appended to this session (a leak from another session)', () => {
    const b = new HistoryBuilder();
    b.append({ session: 'other', turnId: 'x', turnCount: 1, at: 0 });
    b.read({ ids: ['x'], count: 1, at: 10 });
    expect(inv(b, 'no-phantom-writes').anomalies[0]!.message).toMatch(/no append of it to this session/);
  });

  it('flags a turn seen before its append was sent', () => {
    const b = new HistoryBuilder();
    b.read({ ids: ['t1'], count: 1, at: 0 });
    b.append({ turnId: 't1', turnCount: 1, at: 100 });
    expect(inv(b, 'no-phantom-writes').anomalies[0]!.message).toMatch(/only after the read ended/);
  });

  it('does not flag a turn whose append timed out (unknown), nor one retried after a failure', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', outcome: 'unknown', at: 0, dur: 5000 });
    b.append({ turnId: 't2', outcome: 'fail', status: 503, at: 10 });
    b.append({ turnId: 't2', outcome: 'ok', turnCount: 2, at: 20 });
    b.read({ ids: ['t1', 't2'], count: 2, at: 100 });
    expect(inv(b, 'no-phantom-writes').holds).toBe(true);
  });
});

describe('no-duplicates', () => {
  it('flags a turn id twice in one window', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const r = b.read({ ids: ['t1', 't1'], count: 2, at: 10 });
    expect(inv(b, 'no-duplicates').anomalies).toEqual([expect.objectContaining({ type: 'duplicate-in-window', ops: [r.id] })]);
  });

  it('flags a turn acknowledged as applied twice', () => {
    const b = new HistoryBuilder();
    const a1 = b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const a2 = b.append({ turnId: 't1', turnCount: 2, at: 10 });
    const found = inv(b, 'no-duplicates').anomalies.filter((a) => a.type === 'applied-twice');
    expect(found.map((a) => a.ops)).toEqual([[a1.id, a2.id]]);
  });

  it('flags turnCount jumping by two for one append with nobody else writing', () => {
    const b = new HistoryBuilder();
    const a1 = b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.append({ turnId: 't2', outcome: 'unknown', at: 10, dur: 100 });
    // the client's own retry: the unknown attempt was applied AND the retry applied again
    const a2 = b.append({ turnId: 't2', turnCount: 3, at: 200 });
    const found = inv(b, 'no-duplicates').anomalies.filter((a) => a.type === 'count-jump');
    expect(found.map((a) => a.ops)).toEqual([[a1.id, a2.id]]);
  });

  it('does not flag a jump explained by a timed-out append still open across a later delete', () => {
    // Found by the check bench on a correct history: the timed-out append overlaps the delete, so
    // it is in no epoch, yet it landed before the jump.
    const b = new HistoryBuilder();
    b.append({ vu: 1, turnId: 't1', turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'x', outcome: 'unknown', at: 10, dur: 5_000 });
    b.append({ vu: 1, turnId: 't2', turnCount: 3, at: 200 });
    b.delete({ vu: 3, at: 1_000 });
    expect(inv(b, 'no-duplicates').anomalies).toEqual([]);
  });

  it('does not flag an idempotent replay answered applied:false', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', outcome: 'unknown', at: 0, dur: 100 });
    b.append({ turnId: 't1', applied: false, turnCount: 1, at: 200 });
    b.read({ ids: ['t1'], count: 1, at: 300 });
    expect(inv(b, 'no-duplicates').holds).toBe(true);
  });

  it('does not flag a jump explained by another client appending meanwhile (even one that timed out)', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 1, turnId: 't1', turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'x', outcome: 'unknown', at: 1, dur: 3 });
    b.append({ vu: 1, turnId: 't2', turnCount: 3, at: 200 });
    expect(inv(b, 'no-duplicates').holds).toBe(true);
  });
});

describe('no-divergence', () => {
  it('flags two reads showing different turns at one position', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 1, turnId: 'a', turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'b', turnCount: 1, at: 0 });
    const r1 = b.read({ vu: 1, ids: ['a'], count: 1, at: 10 });
    const r2 = b.read({ vu: 2, ids: ['b', 'c'], count: 2, at: 20 });
    b.read({ vu: 3, ids: ['b', 'c'], count: 2, at: 30 });
    const i = inv(b, 'no-divergence');
    expect(i.anomalies).toEqual([expect.objectContaining({ type: 'divergence', ops: [r1.id, r2.id] })]);
  });

  it('aligns tail windows on turnCount: compacted, shorter and longer windows are compatible', () => {
    const b = new HistoryBuilder();
    sequentialSession(b, 30);
    b.read({ ids: ['s1-t29', 's1-t30'], count: 30, at: 10_000 });
    expect(inv(b, 'no-divergence').holds).toBe(true);
  });

  it('flags tails that disagree once aligned', () => {
    const b = new HistoryBuilder();
    sequentialSession(b, 12);
    // same length window, but shifted by one: t2..t11 claimed as positions 2..11
    b.read({ ids: Array.from({ length: 10 }, (_, i) => `s1-t${i + 2}`), count: 12, at: 10_000 });
    expect(inv(b, 'no-divergence').holds).toBe(false);
  });

  it('does not compare across a delete', () => {
    const b = new HistoryBuilder();
    b.read({ ids: ['a'], count: 1, at: 0 });
    b.delete({ at: 10 });
    b.read({ ids: ['z'], count: 1, at: 30 });
    expect(inv(b, 'no-divergence').holds).toBe(true);
  });
});

describe('no-phantom-writes with seeded sessions', () => {
  it('does not flag turns seeded into the store before the run', () => {
    const b = new HistoryBuilder();
    b.read({ tenant: 'tenant-a', ids: ['old1'], count: 1, at: 0 });
    expect(inv(b, 'no-phantom-writes').holds).toBe(false);
    expect(inv(b, 'no-phantom-writes', { seeded: [{ tenant: 'tenant-a', session: 's1', turnIds: ['old1'] }] }).holds).toBe(true);
  });
});
