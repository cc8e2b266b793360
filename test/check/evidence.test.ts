/**
 * No verdict without evidence: each invariant, run over an empty history and over one where every
 * request failed, is "no evidence" (failing) or "not applicable" with its reason — never `held`.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/check-history.ts';
import { judgeEvidence } from '../../src/check/evidence.ts';
import { INVARIANTS, type InvariantName } from '../../src/check/invariants.ts';
import { HistoryBuilder } from './history-builder.ts';

const ALL = (Object.keys(INVARIANTS) as InvariantName[]).filter((n) => !('needs' in INVARIANTS[n]));
const caps = { conditionalAppend: true, readModes: ['strong', 'bounded', 'eventual'], summary: true, pinnedFacts: true, degradedMode: true, schemaVersions: [1] };

function allErrors(): HistoryBuilder {
  const h = new HistoryBuilder();
  for (let i = 0; i < 20; i++) {
    h.append({ turnId: `t${i}`, at: i * 10, outcome: 'unknown', status: 0, mode: undefined, code: 'transport:ECONNREFUSED' });
    h.read({ at: i * 10 + 5, outcome: 'fail', status: 0, mode: undefined, ids: undefined, count: undefined, revision: undefined, turnCount: undefined });
  }
  return h;
}

describe('evidence', () => {
  for (const [label, history] of [['an empty history', []], ['an all-error history', allErrors().entries]] as const) {
    it(`${label}: no invariant holds without evidence`, () => {
      const report = checkHistory(history, { invariants: ALL });
      const judged = judgeEvidence(report.invariants, { history, faultsInjected: 0, tenants: 2, capabilities: caps, measured: report.stats.evidence });
      for (const r of judged) {
        expect.soft(r.status, r.name).not.toBe('held');
        if (r.status === 'no-evidence') {
          expect(r.holds).toBe(false);
          expect(r.anomalies[0]!.message).toMatch(/^no evidence: /);
        }
      }
      expect(judged.filter((r) => r.holds && r.status !== 'not-applicable')).toEqual([]);
    });
  }

  it('counts what was checked, and a violation stays one', () => {
    const h = new HistoryBuilder();
    h.append({ turnId: 'a', at: 0, turnCount: 1 });
    h.read({ ids: ['a'], at: 10 });
    const judged = judgeEvidence(checkHistory(h.entries, { invariants: ['no-lost-writes'] }).invariants, { history: h.entries, faultsInjected: 0, tenants: 1 });
    expect(judged[0]).toMatchObject({ status: 'held', holds: true, evidence: '1 acknowledged writes in 1 sessions' });
    const failed = judgeEvidence([{ name: 'no-lost-writes', holds: false, description: '', anomalies: [{ type: 'lost-write', message: 'x', ops: [1] }] }], { history: h.entries, faultsInjected: 0, tenants: 1 });
    expect(failed[0]!.status).toBe('violated');
  });

  it('fault-dependent invariants without a fault, absent capabilities and one tenant are not applicable, with the reason', () => {
    const ok = (name: string) => ({ name, holds: true, description: '', anomalies: [] });
    const judged = judgeEvidence([ok('recovers-within-5s'), ok('cas-respected'), ok('tenant-isolation')], { history: [], faultsInjected: 0, tenants: 1, capabilities: { ...caps, conditionalAppend: false } });
    expect(judged.map((r) => [r.status, r.reason])).toEqual([
      ['not-applicable', 'no fault injected'],
      ['not-applicable', 'the backend declares no conditional append (capabilities.conditionalAppend)'],
      ['not-applicable', expect.stringMatching(/^one tenant/)],
    ]);
  });

  it('a waiver keeps its reason and passes; a declared promise that broke fails even when waived', () => {
    const bad = { name: 'idle-expired', holds: false, description: '', anomalies: [{ type: 'idle-session-alive', message: 'alive', ops: [2] }] };
    const waive = { 'idle-expired': 'kept for audit' };
    expect(judgeEvidence([bad], { history: [], faultsInjected: 0, tenants: 1, waive })[0]).toMatchObject({ status: 'waived', holds: true, reason: 'kept for audit' });
    expect(judgeEvidence([bad], { history: [], faultsInjected: 0, tenants: 1, waive, declared: new Set(['idle-expired']) })[0]).toMatchObject({ status: 'violated', holds: false });
  });
});
