import { describe, expect, it } from 'vitest';
import { checkHistory, DEFAULT_INVARIANTS, INVARIANTS } from '../../src/check/index.ts';
import { HistoryBuilder } from './history-builder.ts';
import { simulateHistory } from './simulated-history.ts';

describe('checkHistory', () => {
  it('reports the default invariants by stable name with a description each', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.read({ ids: ['t1'], count: 1, at: 10 });
    const r = checkHistory(b.entries);
    expect(r.holds).toBe(true);
    expect(r.invariants.map((i) => i.name)).toEqual([...DEFAULT_INVARIANTS]);
    for (const i of r.invariants) {
      expect(Object.keys(i).sort()).toEqual(['anomalies', 'description', 'holds', 'name']);
      expect(i.description).toBe(INVARIANTS[i.name as keyof typeof INVARIANTS].description);
    }
    expect(r.stats).toMatchObject({ entries: 2, sessions: 1, ops: { append: { ok: 1, fail: 0, unknown: 0 }, read: { ok: 1, fail: 0, unknown: 0 } } });
  });

  it('evaluates exactly the invariants a scenario picks, and rejects unknown names', () => {
    const r = checkHistory([], { invariants: ['no-divergence', 'no-lost-writes'] });
    expect(r.invariants.map((i) => i.name)).toEqual(['no-divergence', 'no-lost-writes']);
    expect(() => checkHistory([], { invariants: ['no-such' as never] })).toThrow(/unknown invariant "no-such"/);
    expect(() => checkHistory([], { windowTurns: 0 })).toThrow(RangeError);
  });

  it('names the violated invariant and lists at most maxAnomaliesPerInvariant anomalies plus a summary', () => {
    const b = new HistoryBuilder();
    for (let i = 0; i < 5; i++) b.append({ turnId: `t${i}`, turnCount: 1, at: i * 10 });
    b.read({ ids: [], count: 0, at: 100 });
    const r = checkHistory(b.entries, { maxAnomaliesPerInvariant: 2 });
    expect(r.holds).toBe(false);
    const lost = r.invariants.find((i) => i.name === 'no-lost-writes')!;
    expect(lost.holds).toBe(false);
    expect(lost.anomalies).toHaveLength(3);
    expect(lost.anomalies[2]).toEqual({ type: 'more', message: '3 more anomalies of this invariant not listed', ops: [] });
  });

  it('finds nothing in a large correct history with timeouts and refusals, and runs in linear-ish time', () => {
    const history = simulateHistory({ entries: 200_000, sessions: 2_000, vus: 50 });
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = checkHistory(history, { invariants: [...DEFAULT_INVARIANTS, 'no-stale-strong-reads'] });
    const { user, system } = process.cpuUsage(cpu);
    const cpuMs = (user + system) / 1000;
    console.log(`checkHistory over ${history.length} entries: ${(performance.now() - started).toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`);
    expect(r.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
    expect(r.stats.acknowledgedTurns.total).toBeGreaterThan(90_000);
    expect(r.stats.acknowledgedTurns.lost).toBe(0);
    // CPU time, not wall time: the shared box may be loaded; a quadratic pass would take minutes.
    expect(cpuMs).toBeLessThan(10_000);
  });

  it('copes with one hot session of 100k entries', () => {
    const history = simulateHistory({ entries: 100_000, sessions: 1, vus: 20, seed: 7 });
    const started = performance.now();
    const r = checkHistory(history);
    console.log(`checkHistory over one 100k-entry session: ${(performance.now() - started).toFixed(0)} ms`);
    expect(r.holds).toBe(true);
  });

  it('catches lost turns injected into a large correct history', () => {
    const history = simulateHistory({ entries: 20_000, sessions: 50, vus: 20, seed: 3 });
    // the store "forgets" one acknowledged turn: drop it from every later read window and count
    const lastRead = history.filter((e) => e.op === 'read' && e.session === 's7').at(-1)!;
    const victim = history.filter((e) => e.op === 'append' && e.outcome === 'ok' && e.session === 's7' && e.endMs < lastRead.startMs).at(-1)!;
    for (const e of history) {
      if (e.op !== 'read' || e.session !== 's7' || e.startMs <= victim.endMs || !e.turnIds) continue;
      e.turnIds = e.turnIds.filter((id) => id !== victim.turnId);
    }
    const r = checkHistory(history, { invariants: ['no-lost-writes'] });
    expect(r.invariants[0]!.anomalies.map((a) => a.ops[0])).toContain(victim.id);
  });
});
