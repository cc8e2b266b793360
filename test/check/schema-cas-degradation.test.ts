import { describe, expect, it } from 'vitest';
import { checkHistory, type InvariantName } from '../../src/check/index.ts';
import { HistoryBuilder } from './history-builder.ts';

const inv = (b: HistoryBuilder, name: InvariantName, opts = {}) => checkHistory(b.entries, { invariants: [name], ...opts }).invariants[0]!;

describe('no-schema-regression / final-schema-version', () => {
  it('flags an answer with a lower version than one completed before it', () => {
    const b = new HistoryBuilder();
    b.read({ ids: [], count: 0, at: 0, schemaVersion: 1 });
    const v3 = b.read({ ids: [], count: 0, at: 10, schemaVersion: 3 });
    const old = b.append({ turnId: 't1', turnCount: 1, at: 20, schemaVersion: 1, instance: 'i1' });
    const i = inv(b, 'no-schema-regression');
    expect(i.anomalies.map((a) => a.ops)).toEqual([[v3.id, old.id]]);
    expect(i.anomalies[0]!.message).toMatch(/instance i1/);
  });

  it('does not flag upgrades, concurrent answers, or a refused (409) old instance', () => {
    const b = new HistoryBuilder();
    b.read({ ids: [], count: 0, at: 0, schemaVersion: 1 });
    b.read({ ids: [], count: 0, at: 10, schemaVersion: 2, dur: 50 });
    b.read({ ids: [], count: 0, at: 20, schemaVersion: 1 }); // overlaps the v2 read
    b.read({ ids: [], count: 0, at: 100, schemaVersion: 3 });
    b.append({ turnId: 't1', outcome: 'fail', status: 409, code: 'unsupported_schema_version', schemaVersion: 1, at: 200 });
    // a degraded fallback (store unreachable) answers in the instance's own version: not the store's state
    b.read({ ids: [], count: 0, at: 300, schemaVersion: 2, mode: 'degraded' });
    expect(inv(b, 'no-schema-regression').holds).toBe(true);
  });

  it('final-schema-version: every session ends at the expected version', () => {
    const b = new HistoryBuilder();
    b.read({ ids: [], count: 0, at: 0, schemaVersion: 3 });
    const last = b.read({ session: 's2', ids: [], count: 0, at: 0, schemaVersion: 2 });
    const i = inv(b, 'final-schema-version', { expectedSchemaVersion: 3 });
    expect(i.anomalies).toEqual([expect.objectContaining({ session: 's2', ops: [last.id] })]);
    expect(inv(b, 'final-schema-version').anomalies[0]!.type).toBe('missing-input');
  });
});

describe('cas-respected', () => {
  it('flags an If-Match append applied at the wrong revision', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    const bad = b.append({ turnId: 't2', ifMatch: 0, turnCount: 2, revision: 2, at: 10 });
    expect(inv(b, 'cas-respected').anomalies).toEqual([expect.objectContaining({ type: 'if-match-ignored', ops: [bad.id] })]);
  });

  it('flags two turns acknowledged with the same revision', () => {
    const b = new HistoryBuilder();
    const a = b.append({ vu: 1, turnId: 'a', turnCount: 1, at: 0 });
    const c = b.append({ vu: 2, turnId: 'b', turnCount: 1, at: 0 });
    expect(inv(b, 'cas-respected').anomalies).toEqual([expect.objectContaining({ type: 'revision-reused', ops: [a.id, c.id] })]);
  });

  it('does not flag conflicts answered 409, replays, or the same revision after a delete', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', ifMatch: 0, turnCount: 1, at: 0 });
    b.append({ vu: 2, turnId: 'x', ifMatch: 0, outcome: 'fail', status: 409, code: 'revision_conflict', at: 1 });
    b.append({ turnId: 't1', applied: false, turnCount: 1, at: 10 });
    b.delete({ at: 20 });
    b.append({ turnId: 't9', turnCount: 1, at: 40 });
    const r = checkHistory(b.entries, { invariants: ['cas-respected'] });
    expect(r.holds).toBe(true);
    expect(r.stats.revisionConflicts).toBe(1);
  });
});

describe('degradation-flagged / no-store-5xx', () => {
  it('flags an answer without a mode and a header/body disagreement', () => {
    const b = new HistoryBuilder();
    const none = b.read({ ids: [], count: 0, at: 0, mode: undefined });
    const mismatch = b.read({ ids: [], count: 0, at: 10, mode: 'normal', bodyMode: 'degraded' });
    const i = inv(b, 'degradation-flagged');
    expect(i.anomalies.map((a) => [a.type, a.ops[0]])).toEqual([
      ['mode-missing', none.id],
      ['mode-mismatch', mismatch.id],
    ]);
  });

  it('does not flag a degraded answer that says so, nor a request that got no answer', () => {
    const b = new HistoryBuilder();
    b.read({ ids: [], count: 0, at: 0, mode: 'degraded', bodyMode: 'degraded' });
    b.append({ turnId: 't1', outcome: 'unknown', status: 0, at: 10 });
    const r = checkHistory(b.entries, { invariants: ['degradation-flagged'] });
    expect(r.holds).toBe(true);
    expect(r.stats.degradedResponses).toBe(1);
  });

  it('flags a bare 500 and, as configured, 503s', () => {
    const b = new HistoryBuilder();
    const e500 = b.read({ ids: [], at: 0, status: 500, outcome: 'fail' });
    const r503 = b.read({ ids: [], at: 10, status: 503, outcome: 'fail', code: 'store_unavailable' });
    const a503 = b.append({ turnId: 't1', status: 503, outcome: 'unknown', at: 20 });
    expect(inv(b, 'no-store-5xx').anomalies.map((a) => a.ops[0])).toEqual([e500.id]);
    expect(inv(b, 'no-store-5xx', { allow503: 'appends' }).anomalies.map((a) => a.ops[0])).toEqual([e500.id, r503.id]);
    expect(inv(b, 'no-store-5xx', { allow503: 'none' }).anomalies.map((a) => a.ops[0])).toEqual([e500.id, r503.id, a503.id]);
  });
});
