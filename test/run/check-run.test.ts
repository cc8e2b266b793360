/**
 * The run's check stage without a run: which of a scenario's invariants an external backend's
 * missing witnesses leave unchecked (read from the registry's needs), that a missing witness on
 * the harness's own topology fails instead, and that a name no checker knows fails by name.
 */
import { describe, expect, it } from 'vitest';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { checkRun } from '../../src/run/check-run.ts';
import type { Witnesses } from '../../src/run/witnesses.ts';

const spec: ScenarioSpec = {
  name: 'probe',
  summary: 'a scenario naming invariants that need each witness',
  guards: 'bounds',
  topology: { instances: 1 },
  plan: { faults: [] },
  invariants: ['no-lost-writes', 'audit-agrees', 'store-agrees', 'ttl-set', 'metrics-agree', 'no-such-invariant'],
};
const noWitnesses: Witnesses = { scrapes: [{ instance: 'target', after: '' }], audit: [], store: undefined, keyMemory: null, usedMemoryBytes: { before: null, after: null } };

describe('checkRun', () => {
  it('on an external backend, leaves unchecked the invariants whose witness it gave no access to, and says so', () => {
    const lines: string[] = [];
    const r = checkRun({ spec, history: [], witnesses: noWitnesses, faultWindows: [], external: true, log: (l) => lines.push(l) });
    expect(r.unchecked).toEqual(['audit-agrees', 'store-agrees', 'ttl-set']);
    expect(lines).toEqual([
      'stateproof: not checking audit-agrees: this backend gives no access to its audit trail',
      'stateproof: not checking store-agrees: this backend gives no access to its store (see --redis-url)',
      'stateproof: not checking ttl-set: this backend gives no access to its store (see --redis-url)',
    ]);
    expect(r.invariants.map((i) => i.name)).toEqual(['no-lost-writes', 'metrics-agree', 'no-such-invariant']);
    const unknown = r.invariants.find((i) => i.name === 'no-such-invariant')!;
    expect(unknown.holds).toBe(false);
    expect(unknown.anomalies[0]).toMatchObject({ type: 'unknown-invariant', message: 'no checker is named "no-such-invariant"' });
  });

  it("on the harness's own topology, a missing witness fails its invariant instead", () => {
    const r = checkRun({ spec, history: [], witnesses: noWitnesses, faultWindows: [], external: false, log: () => {} });
    expect(r.unchecked).toEqual([]);
    const audit = r.invariants.find((i) => i.name === 'audit-agrees')!;
    expect(audit.holds).toBe(false);
    expect(audit.anomalies[0]!.type).toBe('missing-input');
  });
});
