/**
 * The one registry of invariants, through checkHistory: every invariant answers under its own
 * name in the report's exact shape, in the order asked; one checked without an input it needs
 * fails saying which; the defaults are the history-only ones plus those whose inputs are given;
 * and a scenario-level invariant judges what checkHistory hands it as the scenario would.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, DEFAULT_INVARIANTS, INVARIANTS, type InvariantName, type InvariantSpec } from '../../src/check/index.ts';
import { HistoryBuilder } from './history-builder.ts';

const NAMES = Object.keys(INVARIANTS) as InvariantName[];
const spec = (n: InvariantName): InvariantSpec => INVARIANTS[n];
const EVERY_INPUT = { audit: [], store: [], metrics: [], expectedSchemaVersion: 3, faultWindows: [] };

describe('the invariant registry', () => {
  it('declares each invariant with a description', () => {
    expect(NAMES.length).toBeGreaterThan(20);
    for (const n of NAMES) expect(spec(n).description.length, n).toBeGreaterThan(20);
  });

  it('answers every invariant under its own name, in the order asked, in the result shape', () => {
    const order = [...NAMES].reverse();
    const r = checkHistory([], { invariants: order, ...EVERY_INPUT });
    expect(r.invariants.map((i) => i.name)).toEqual(order);
    for (const i of r.invariants) expect(Object.keys(i).sort()).toEqual(['anomalies', 'description', 'holds', 'name']);
  });

  it('fails an invariant checked without an input it needs, naming the option to pass', () => {
    const needy = NAMES.filter((n) => spec(n).needs?.length);
    expect(needy).toEqual(expect.arrayContaining(['audit-agrees', 'store-agrees', 'metrics-agree', 'ttl-set', 'recovers-within-5s', 'failover-loss-window']));
    for (const i of checkHistory([], { invariants: needy }).invariants) {
      expect(i.holds, i.name).toBe(false);
      expect(i.anomalies).toEqual([{ type: 'missing-input', message: `${i.name} was requested but no ${spec(i.name as InvariantName).needs!.join(', ')} was given to checkHistory`, ops: [] }]);
    }
  });

  it('runs by default the history-only invariants, and those whose inputs are given', () => {
    expect(checkHistory([]).invariants.map((i) => i.name)).toEqual([...DEFAULT_INVARIANTS]);
    const withInputs = checkHistory([], { audit: [], store: [], metrics: [], expectedSchemaVersion: 3 }).invariants.map((i) => i.name);
    expect(withInputs).toEqual([...DEFAULT_INVARIANTS, 'final-schema-version', 'audit-agrees', 'store-agrees', 'metrics-agree']);
    expect(DEFAULT_INVARIANTS).not.toContain('no-stale-strong-reads');
  });

  it('hands scenario-level checkers the whole entry: a pinned fact is found in the summary of the last read', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 's1-t49-pinned', turnCount: 1, at: 0 });
    const read = b.read({ ids: [], count: 1, at: 100, summary: 'Pinned facts: fact s1-t49-pinned: blue' });
    expect(checkHistory(b.entries, { invariants: ['pinned-facts-kept'] }).invariants[0]!.holds).toBe(true);
    read.summary = 'nothing pinned';
    expect(checkHistory(b.entries, { invariants: ['pinned-facts-kept'] }).invariants[0]!.holds).toBe(false);
  });

  it('measures time to recover per fault window whenever windows are given', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 2500 });
    const r = checkHistory(b.entries, { invariants: [], faultWindows: [{ id: 'down', startMs: 1000, endMs: 2000 }] });
    expect(r.stats.recovery).toEqual([{ faultId: 'down', timeToRecoverMs: 500 }]);
    expect(checkHistory(b.entries, { invariants: [] }).stats.recovery).toBeUndefined();
  });
});
