import { describe, expect, it } from 'vitest';
import { checkHistory, parseAuditLog, reconcileAudit, reconcileStore, type AuditRecord, type StoreSnapshot } from '../../src/check/index.ts';
import { HistoryBuilder } from './history-builder.ts';

const rec = (r: Partial<AuditRecord> & Pick<AuditRecord, 'result' | 'op'>): AuditRecord => ({
  time: 1,
  msg: 'audit',
  instance: 'i1',
  tenant: 'tenant-a',
  session: 's1',
  status: 200,
  ...r,
});

const snap = (s: Partial<StoreSnapshot>): StoreSnapshot => ({
  tenant: 'tenant-a',
  session: 's1',
  schemaVersion: 3,
  revision: 2,
  turnCount: 2,
  turnIds: ['t1', 't2'],
  bytes: 900,
  ttlSeconds: 86_000,
  ...s,
});

function twoTurns() {
  const b = new HistoryBuilder();
  b.append({ turnId: 't1', turnCount: 1, at: 0 });
  b.append({ turnId: 't2', turnCount: 2, at: 10 });
  b.append({ turnId: 't3', outcome: 'fail', status: 413, code: 'state_too_large', at: 20 });
  return b;
}
const goodAudit = [
  rec({ op: 'append', result: 'applied', turnId: 't1', turnCount: 1, revision: 1 }),
  rec({ op: 'append', result: 'applied', turnId: 't2', turnCount: 2, revision: 2 }),
  rec({ op: 'append', result: 'too_large', turnId: 't3', status: 413 }),
];

describe('parseAuditLog', () => {
  it('keeps audit lines, skips other pino lines and a torn last line', () => {
    const text = [JSON.stringify({ level: 30, msg: 'listening' }), ...goodAudit.map((r) => JSON.stringify({ level: 30, ...r })), '{"msg":"audit","ses'].join('\n');
    expect(parseAuditLog(text)).toHaveLength(3);
  });
});

describe('audit-agrees', () => {
  it('holds when the audit trail applied exactly the acknowledged turns', () => {
    expect(reconcileAudit(twoTurns().entries, goodAudit)).toEqual([]);
  });

  it('flags an ack with no audit record, a turn applied twice, and one applied that the client saw fail', () => {
    const audit = [goodAudit[0]!, goodAudit[0]!, rec({ op: 'append', result: 'applied', turnId: 't3', turnCount: 2 })];
    const found = reconcileAudit(twoTurns().entries, audit);
    expect(found.map((a) => a.type).sort()).toEqual(['ack-not-in-audit', 'audit-applied-client-failed', 'audit-applied-twice']);
    expect(found.find((a) => a.type === 'ack-not-in-audit')!.ops).toEqual([2]);
  });

  it('does not flag a timed-out append the audit applied, nor an idempotent replay', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', outcome: 'unknown', at: 0 });
    b.append({ turnId: 't1', applied: false, turnCount: 1, at: 100 });
    b.append({ turnId: 't2', outcome: 'unknown', at: 200 });
    const audit = [
      rec({ op: 'append', result: 'applied', turnId: 't1', turnCount: 1 }),
      rec({ op: 'append', result: 'replayed', turnId: 't1', turnCount: 1 }),
      rec({ op: 'append', result: 'applied', turnId: 't2', turnCount: 2 }),
    ];
    expect(reconcileAudit(b.entries, audit)).toEqual([]);
  });

  it('does not expect audit records for turns seeded straight into the store (phase "seed")', () => {
    const b = new HistoryBuilder();
    b.append({ vu: 0, turnId: 'seed-0', turnCount: 1, at: 0, phase: 'seed', code: 'seeded' });
    expect(reconcileAudit(b.entries, [])).toEqual([]);
    b.append({ turnId: 't1', turnCount: 2, at: 10 });
    expect(reconcileAudit(b.entries, []).map((a) => a.type)).toEqual(['ack-not-in-audit']);
  });

  it('flags degraded answers logged by the service that the client never saw flagged', () => {
    const b = twoTurns();
    b.read({ ids: ['t1', 't2'], count: 2, at: 30, mode: 'normal' });
    const found = reconcileAudit(b.entries, [...goodAudit, rec({ op: 'read', result: 'degraded' })]);
    expect(found.map((a) => a.type)).toEqual(['degraded-unflagged']);
  });
});

describe('store-agrees', () => {
  const opts = { windowTurns: 10, maxStateBytes: 51_200 };

  it('holds when the store counts and holds every acknowledged turn', () => {
    expect(reconcileStore(twoTurns().entries, [snap({})], { ...opts, audit: goodAudit })).toEqual([]);
  });

  it('flags a stored turn missing from the window, one not counted, and a missing key', () => {
    const b = twoTurns();
    b.append({ session: 's2', turnId: 'u1', turnCount: 1, at: 0 });
    const found = reconcileStore(b.entries, [snap({ turnIds: ['t1'], turnCount: 1 })], opts);
    expect(found.map((a) => a.type)).toEqual(['store-not-counted', 'store-session-missing']);
    const found2 = reconcileStore(twoTurns().entries, [snap({ turnIds: ['t1', 'zz'] })], opts);
    expect(found2.map((a) => a.type)).toEqual(['store-window-missing']);
  });

  it('uses the audit trail as a witness: applied in the audit but not counted by the store', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.append({ turnId: 't2', outcome: 'unknown', at: 10 });
    const audit = [...goodAudit.slice(0, 2)];
    const found = reconcileStore(b.entries, [snap({ turnIds: ['t1'], turnCount: 1 })], { ...opts, audit });
    expect(found).toEqual([expect.objectContaining({ type: 'store-not-counted', message: expect.stringContaining('audit trail') })]);
  });

  it('flags a key without TTL, over the cap, with a failed turn stored', () => {
    const found = reconcileStore(twoTurns().entries, [snap({ ttlSeconds: -1, bytes: 60_000, turnIds: ['t1', 't2', 't3'], turnCount: 3 })], opts);
    expect(found.map((a) => a.type)).toEqual(['store-no-ttl', 'store-over-cap', 'store-phantom']);
  });

  it('does not expect turns compacted out of the window, nor a deleted session', () => {
    const b = new HistoryBuilder();
    for (let i = 1; i <= 15; i++) b.append({ turnId: `t${i}`, turnCount: i, at: i * 10 });
    const ids = Array.from({ length: 10 }, (_, i) => `t${i + 6}`);
    expect(reconcileStore(b.entries, [snap({ turnIds: ids, turnCount: 15 })], opts)).toEqual([]);
    b.delete({ at: 1000 });
    expect(reconcileStore(b.entries, [], opts)).toEqual([]);
  });

  it('matches by tenant when the history names tenants, and runs inside checkHistory', () => {
    const b = new HistoryBuilder();
    b.append({ tenant: 'tenant-a', turnId: 't1', turnCount: 1, at: 0 });
    b.append({ tenant: 'tenant-b', turnId: 'b1', turnCount: 1, at: 0 });
    const r = checkHistory(b.entries, { invariants: ['store-agrees'], store: [snap({ turnIds: ['t1'], turnCount: 1 })] });
    expect(r.invariants[0]!.anomalies).toEqual([expect.objectContaining({ type: 'store-session-missing', session: 'tenant-b/s1' })]);
  });
});
