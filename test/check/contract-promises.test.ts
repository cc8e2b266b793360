/**
 * The contract's promises that issue 14 added checks for: revision rises by one per applied turn
 * and turnCount counts applied turns, replays change nothing, acknowledged turns keep their order,
 * tenants never see each other, and state stops growing once the window is full. Each checker is
 * held to a correct history (no anomaly, evidence counted) and to the defect it exists for.
 */
import { describe, expect, it } from 'vitest';
import { checkRevisionSteps } from '../../src/check/revision-steps.ts';
import { checkTurnOrder } from '../../src/check/turn-order.ts';
import { checkTenantIsolation } from '../../src/check/tenant-isolation.ts';
import { projectGrowth } from '../../src/check/growth-projection.ts';
import { indexSessions } from '../../src/check/sessions.ts';
import { resolveOptions } from '../../src/check/options.ts';
import { HistoryBuilder } from './history-builder.ts';

const index = (h: HistoryBuilder) => indexSessions(h.entries, resolveOptions({}));

describe('revision and turnCount', () => {
  it('a correct history: revision - turnCount constant, nothing over-counted, replays unchanged', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 't1', at: 0, turnCount: 1, revision: 1 });
    h.append({ turnId: 't2', at: 10, turnCount: 2, revision: 2 });
    h.append({ turnId: 't2', at: 20, turnCount: 2, revision: 2, applied: false });
    h.read({ ids: ['t1', 't2'], at: 30 });
    const r = checkRevisionSteps(index(h));
    expect(r.anomalies).toEqual([]);
    expect(r.answersChecked).toBe(4);
    expect(r.replaysChecked).toBe(1);
  });

  it('a revision that skips is drift, naming both answers', () => {
    const h = new HistoryBuilder();
    const a = h.append({ turnId: 't1', at: 0, turnCount: 1, revision: 1 });
    const b = h.append({ turnId: 't2', at: 10, turnCount: 2, revision: 3 });
    const r = checkRevisionSteps(index(h));
    expect(r.anomalies).toMatchObject([{ type: 'revision-drift', ops: [a.id, b.id] }]);
  });

  it('a replay that moves the revision is drift too', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 't1', at: 0, turnCount: 1, revision: 1 });
    h.append({ turnId: 't1', at: 10, turnCount: 1, revision: 2, applied: false });
    expect(checkRevisionSteps(index(h)).anomalies.map((a) => a.type)).toEqual(['revision-drift']);
  });

  it('a turnCount above the distinct turns sent is an overcount', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 't1', at: 0, turnCount: 1, revision: 1 });
    h.append({ turnId: 't1', at: 10, turnCount: 2, revision: 2, applied: true }); // re-applied replay
    expect(checkRevisionSteps(index(h)).anomalies.map((a) => a.type)).toContain('turncount-overcount');
  });

  it('a replay answering a lower turnCount than its acknowledgement is flagged', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 't1', at: 0, turnCount: 1, revision: 1 });
    h.append({ turnId: 't2', at: 10, turnCount: 2, revision: 2 });
    h.append({ turnId: 't2', at: 20, turnCount: 1, revision: 1, applied: false });
    expect(checkRevisionSteps(index(h)).anomalies.map((a) => a.type)).toEqual(['replay-count']);
  });

  it('an empty history has no evidence', () => {
    const r = checkRevisionSteps([]);
    expect(r).toEqual({ anomalies: [], answersChecked: 0, replaysChecked: 0 });
  });
});

describe('turn order', () => {
  it('acknowledged-before-sent turns shown in that order hold; concurrent ones may go either way', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 'a', at: 0, dur: 5, turnCount: 1 });
    h.append({ turnId: 'b', at: 10, dur: 20, turnCount: 2 });
    h.append({ turnId: 'c', at: 12, dur: 5, turnCount: 3 }); // overlaps b
    h.read({ ids: ['a', 'c', 'b'], at: 40 });
    const r = checkTurnOrder(index(h));
    expect(r.anomalies).toEqual([]);
    expect(r.readsChecked).toBe(1);
  });

  it('a window that shows a later turn first is reordered-window, with the three ops', () => {
    const h = new HistoryBuilder();
    const a = h.append({ turnId: 'a', at: 0, turnCount: 1 });
    const b = h.append({ turnId: 'b', at: 10, turnCount: 2 });
    const r1 = h.read({ ids: ['b', 'a'], at: 20 });
    const r = checkTurnOrder(index(h));
    expect(r.anomalies).toMatchObject([{ type: 'reordered-window', ops: [a.id, b.id, r1.id] }]);
  });
});

describe('tenant isolation', () => {
  it('two tenants with the same session id and case variants, each seeing only its own', () => {
    const h = new HistoryBuilder();
    h.append({ tenant: 'A', session: 'chat-1', turnId: 'a1', at: 0, turnCount: 1 });
    h.append({ tenant: 'B', session: 'chat-1', turnId: 'b1', at: 0, turnCount: 1 });
    h.read({ tenant: 'A', session: 'chat-1', ids: ['a1'], at: 10 });
    h.read({ tenant: 'B', session: 'chat-1', ids: ['b1'], at: 10 });
    h.read({ tenant: 'B', session: 'CHAT-1', status: 404, ids: [], at: 10 });
    const r = checkTenantIsolation(h.entries);
    expect(r.anomalies).toEqual([]);
    expect(r.tenants).toBe(2);
    expect(r.crossReads).toBe(3);
  });

  it('another tenant\'s turn in a window is a tenant-leak', () => {
    const h = new HistoryBuilder();
    h.append({ tenant: 'A', session: 'chat-1', turnId: 'a1', at: 0, turnCount: 1 });
    h.append({ tenant: 'B', session: 'chat-1', turnId: 'b1', at: 5, turnCount: 2 });
    h.read({ tenant: 'B', session: 'chat-1', ids: ['a1', 'b1'], at: 10 });
    expect(checkTenantIsolation(h.entries).anomalies.map((a) => a.type)).toEqual(['tenant-leak']);
  });

  it('a 200 for a session this tenant never wrote (a case variant of another\'s) is tenant-visible', () => {
    const h = new HistoryBuilder();
    h.append({ tenant: 'A', session: 'Chat-1', turnId: 'a1', at: 0, turnCount: 1 });
    h.read({ tenant: 'B', session: 'chat-1', ids: [], count: 1, at: 10 });
    expect(checkTenantIsolation(h.entries).anomalies.map((a) => a.type)).toEqual(['tenant-visible']);
  });
});

describe('growth projection', () => {
  const grow = (bytesAt: (turn: number) => number) => {
    const h = new HistoryBuilder();
    for (let t = 1; t <= 40; t++) {
      h.append({ turnId: `t${t}`, at: t * 10, turnCount: t });
      h.read({ ids: [], count: t, bytes: bytesAt(t), at: t * 10 + 5 });
    }
    return h.entries;
  };

  it('flat state after the window fills (with one step for a pinned fact) is not growth', () => {
    const r = projectGrowth(grow((t) => Math.min(t, 10) * 400 + (t > 25 ? 120 : 0)), { windowTurns: 10, maxStateBytes: 51_200 });
    expect(r.anomalies).toEqual([]);
    expect(r.sessionsMeasured).toBe(1);
  });

  it('a session that keeps growing is flagged with the turn at which it reaches the cap', () => {
    const r = projectGrowth(grow((t) => 5_000 + t * 800), { windowTurns: 10, maxStateBytes: 51_200 });
    expect(r.anomalies).toHaveLength(1);
    expect(r.growing[0]).toMatchObject({ slopeBytesPerTurn: 800, capAtTurn: 58 });
    expect(r.anomalies[0]!.message).toMatch(/800 B\/turn over turns 11–40.*reaches the 51,200 B cap at turn 58/);
  });

  it('growth with no declared cap says nothing stops it', () => {
    const r = projectGrowth(grow((t) => 5_000 + t * 800), { windowTurns: 10 });
    expect(r.anomalies[0]!.message).toMatch(/no cap is declared/);
  });

  it('too few reads past the window is no evidence, not a pass', () => {
    const r = projectGrowth(grow((t) => t * 100).slice(0, 24), { windowTurns: 10 });
    expect(r.sessionsMeasured).toBe(0);
  });
});

describe('audit trail and client retries', () => {
  const audit = (result: string, instance: string) => ({ time: 0, msg: 'audit' as const, instance, tenant: 't', session: 's1', op: 'append' as const, result: result as 'applied', turnId: 'r1', status: result === 'applied' ? 200 : 503 });

  it('a retry acknowledged as applied:false after the service could not settle the first attempt is not a finding', async () => {
    const { reconcileAudit } = await import('../../src/check/reconcile.ts');
    const h = new HistoryBuilder();
    h.append({ turnId: 'r1', at: 0, outcome: 'unknown', status: 503 });
    h.append({ turnId: 'r1', at: 10, turnCount: 1, applied: false });
    expect(reconcileAudit(h.entries, [audit('unavailable', 'i1'), audit('replayed', 'i2')])).toEqual([]);
    // Without the unsettled attempt in the audit, the acknowledged turn has no witness there.
    expect(reconcileAudit(h.entries, [audit('replayed', 'i2')]).map((a) => a.type)).toEqual(['ack-not-in-audit']);
  });
});
