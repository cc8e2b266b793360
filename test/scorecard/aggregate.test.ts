/**
 * The scorecard's aggregation over result.json files captured from real runs (fixtures/README.md):
 * every cell, count and figure must be what those runs recorded.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anomalyCount, capAnomalies } from '../../src/check/cap-anomalies.ts';
import { projectGrowth } from '../../src/check/growth-projection.ts';
import { bytesByTurn } from '../../src/report/derive/state-health.ts';
import type { RunResult } from '../../src/report/result-schema.ts';
import { buildScorecard } from '../../src/scorecard/aggregate.ts';
import { REPROS, UNREPRODUCED } from '../../src/scorecard/repros.ts';
import { renderScorecardMd } from '../../src/scorecard/render-md.ts';
import { ScorecardSchema } from '../../src/scorecard/schema.ts';
import { capturedPairs, FIXTURES, meta } from './fixtures.ts';

const OUT = path.join(FIXTURES, 'out');
const REF = 'reference/redis';
const LC = 'langchain-redis-history/redis';

/** The anomalies an invariant recorded: the listed ones, and the rest its capped list counts in words. */
const recorded = (anomalies: RunResult['invariants'][number]['anomalies']) => {
  const more = anomalies.find((a) => a.type === 'more');
  return anomalies.length - (more ? 1 : 0) + (more ? Number(/^(\d+) more/.exec(more.message)![1]) : 0);
};
const inv = (r: RunResult, name: string) => r.invariants.find((i) => i.name === name);
const statusOf = (r: RunResult, name: string) => {
  const i = inv(r, name);
  return i ? (i.status ?? (i.holds ? 'held' : 'violated')) : undefined;
};

describe('scorecard aggregation over captured runs', async () => {
  const pairs = await capturedPairs();
  const sc = buildScorecard(pairs, meta(OUT));
  const [ref, lc] = pairs;
  const runOf = (p: typeof ref, s: string) => p!.runs.find((r) => r.scenario === s)!.result!;

  it('has one row per invariant any run judged, one cell per pair', () => {
    const names = [...new Set(pairs.flatMap((p) => p.runs.flatMap((r) => r.result!.invariants.map((i) => i.name))))];
    expect(sc.invariants.map((r) => r.name).sort()).toEqual(names.sort());
    for (const row of sc.invariants) expect(Object.keys(row.cells).sort()).toEqual([LC, REF].sort());
    expect(ScorecardSchema.parse(JSON.parse(JSON.stringify(sc)))).toEqual(sc);
  });

  it('gives each cell the status the runs recorded: violated in any scenario wins, else held, else n/a', () => {
    for (const row of sc.invariants) {
      for (const p of pairs) {
        const statuses = p.runs.map((r) => statusOf(r.result!, row.name)).filter(Boolean);
        const cell = row.cells[`${p.pair.backend}/${p.pair.store}`]!;
        if (statuses.includes('violated')) expect(cell.status, row.name).toBe('violated');
        else if (statuses.includes('held')) expect(cell.status, row.name).toBe('held');
        else expect(cell.status, row.name).toBe(statuses[0]);
        expect(cell.scenarios.map((s) => s.status)).toEqual(statuses);
      }
    }
  });

  it("counts a violation's anomalies over the scenarios and names its first proving operation, linked", () => {
    const cross = runOf(lc, 'cross-instance');
    const cell = sc.invariants.find((r) => r.name === 'no-duplicates')!.cells[LC]!;
    const anomalies = lc!.runs.map((r) => (statusOf(r.result!, 'no-duplicates') === 'violated' ? recorded(inv(r.result!, 'no-duplicates')!.anomalies) : 0));
    expect(cell.status).toBe('violated');
    // The checker listed 100 and counted the rest: the cell counts all of them.
    expect(inv(cross, 'no-duplicates')!.anomalies.at(-1)!.type).toBe('more');
    expect(cell.count).toBeGreaterThan(100);
    expect(cell.count).toBe(anomalies.reduce((a, b) => a + b, 0));
    const firstId = inv(cross, 'no-duplicates')!.anomalies[0]!.ops[0]!;
    expect(cell.firstOp).toMatchObject({ id: firstId, scenario: 'cross-instance' });
    expect(cell.firstOp!.text).toContain(cross.provingOps.find((o) => o.id === firstId)!.session);
    expect(cell.firstOp!.href).toBe(`../captured-20261202-langchain-redis-history-redis-cross-instance/index.html#op-${firstId}`);
    expect(cell.evidence).toBe(inv(cross, 'no-duplicates')!.anomalies[0]!.message);
  });

  it("links a library's violation to its reproduction, and only where one exists", () => {
    const cell = sc.invariants.find((r) => r.name === 'no-duplicates')!.cells[LC]!;
    expect(cell.repro?.file).toBe('test/backends/repro/langchain-redis-histories.test.ts');
    expect(path.resolve(OUT, cell.repro!.href)).toBe(path.resolve(cell.repro!.file));
    for (const row of sc.invariants) {
      const c = row.cells[LC]!;
      expect(c.repro !== undefined, row.name).toBe(c.status === 'violated' && REPROS['langchain-redis-history']![row.name] !== undefined);
      expect(row.cells[REF]!.repro).toBeUndefined();
      // A library's violation without a reproduction says it is the harness's measurement alone.
      expect(c.unreproduced === true, row.name).toBe(c.status === 'violated' && c.repro === undefined);
      expect(row.cells[REF]!.unreproduced).toBeUndefined();
    }
    const unconfirmed = sc.invariants.find((r) => r.cells[LC]?.unreproduced);
    expect(unconfirmed, 'the fixture has a library violation with no reproduction').toBeDefined();
    expect(renderScorecardMd(sc)).toContain(UNREPRODUCED);
  });

  it('keeps the reason of a not-applicable cell', () => {
    const audit = sc.invariants.find((r) => r.name === 'audit-agrees')!;
    expect(audit.cells[LC]!.status).toBe('not-applicable');
    expect(audit.cells[LC]!.reason).toBe(inv(runOf(lc, 'cross-instance'), 'audit-agrees')!.reason);
    expect(audit.cells[REF]!.status).toBe('held');
  });

  it('sums lost writes, duplicates and divergences from the invariants that judge them', () => {
    const sum = (p: typeof ref, names: string[]) => p!.runs.reduce((n, r) => n + r.result!.invariants.filter((i) => names.includes(i.name) && !i.holds && i.status === 'violated').reduce((m, i) => m + recorded(i.anomalies), 0), 0);
    for (const [id, p] of [[REF, ref], [LC, lc]] as const) {
      const entry = sc.pairs.find((x) => x.id === id)!;
      expect(entry.counts.lostWrites).toBe(sum(p, ['no-lost-writes']));
      expect(entry.counts.duplicates).toBe(sum(p, ['no-duplicates']));
      expect(entry.counts.divergences).toBe(sum(p, ['no-divergence', 'no-divergence-after-failover']));
    }
    expect(sc.pairs.find((x) => x.id === LC)!.counts.duplicates).toBeGreaterThan(0);
    expect(sc.pairs.find((x) => x.id === REF)!.counts).toEqual({ lostWrites: 0, duplicates: 0, divergences: 0 });
  });

  it("takes each fault's blast radius, p99 and recovery from the run's result", () => {
    expect(sc.faults.map((f) => `${f.scenario}/${f.faultId}`)).toEqual(['cross-instance/split-brain-i2']);
    for (const [id, p] of [[REF, ref], [LC, lc]] as const) {
      const f = runOf(p, 'cross-instance').faults[0]!;
      expect(sc.faults[0]!.cells[id]).toMatchObject({ ops: f.ops, failed: f.failed, unknown: f.unknown, affectedSessions: f.affectedSessions, p99DuringMs: f.p99DuringMs, timeToRecoverMs: f.timeToRecoverMs, recovered: f.recovered, fault: 'down' });
    }
  });

  it('measures bytes per session and growth from the long-session reads: flat for the reference, growing for the unbounded history', () => {
    for (const [id, p] of [[REF, ref], [LC, lc]] as const) {
      const run = p!.runs.find((r) => r.scenario === 'long-session')!;
      const buckets = bytesByTurn(run.history!);
      const entry = sc.pairs.find((x) => x.id === id)!;
      expect(entry.bytes).toMatchObject({ atTurns: buckets.at(-1)!.toTurn, p50Bytes: buckets.at(-1)!.p50Bytes });
      expect(entry.bytes!.slopeBytesPerTurn).toBe(projectGrowth(run.history!, { windowTurns: 10 }).medianSlopeBytesPerTurn);
    }
    // The runs' own verdicts: the reference held no-unbounded-growth, the library violated it.
    expect(statusOf(runOf(ref, 'long-session'), 'no-unbounded-growth')).toBe('held');
    expect(statusOf(runOf(lc, 'long-session'), 'no-unbounded-growth')).toBe('violated');
    expect(sc.pairs.find((x) => x.id === REF)!.bytes!.slopeBytesPerTurn!).toBeLessThan(16);
    expect(sc.pairs.find((x) => x.id === LC)!.bytes!.slopeBytesPerTurn!).toBeGreaterThanOrEqual(16);
  });

  it("gives turns/s as the acknowledged appends of the throughput run's steady seconds", () => {
    for (const [id, p] of [[REF, ref], [LC, lc]] as const) {
      const points = p!.throughput!.result!.metrics.series.points.filter((x) => x.requests > 0);
      const steady = points.slice(1, -1);
      const t = sc.pairs.find((x) => x.id === id)!.throughput!;
      expect(t.steadySeconds).toBe(steady.length);
      expect(t.turnsPerSec! * steady.length).toBeCloseTo(steady.reduce((n, x) => n + x.ok, 0), 6);
      expect(t.connections).toBe(64);
    }
  });

  it('records versions, the command, the date and the machine; the Markdown carries the matrix', () => {
    const lcPair = sc.pairs.find((x) => x.id === LC)!;
    expect(lcPair.versions).toEqual(runOf(lc, 'cross-instance').environment.backend!.versions);
    expect(lcPair.storeVersion).toBe(runOf(lc, 'cross-instance').environment.redis);
    expect(sc.command[0]).toBe('scorecard');
    expect(sc.machine.cpus).toBeGreaterThan(0);
    const md = renderScorecardMd(sc);
    expect(md).toContain(`| Invariant | ${REF} | ${LC} |`);
    expect(md).toMatch(/\| no-duplicates \| \[held\]\([^)]+\) \| \[\*\*VIOLATED ×\d+\*\*\]/);
  });

  it('marks what did not run, and a scenario the backend cannot run as not applicable with the reason', async () => {
    const [r, l] = await capturedPairs();
    l!.runs = [{ scenario: 'cross-instance', error: 'interrupted' }, l!.runs[1]!];
    const partial = buildScorecard([r!, l!], meta(OUT, { interrupted: true }));
    const onlyCross = partial.invariants.find((x) => x.name === 'cas-respected')!;
    expect(onlyCross.cells[LC]).toMatchObject({ status: 'not-run', reason: 'cross-instance: interrupted' });
    l!.runs = [{ scenario: 'cross-instance', refused: 'needs the reference service' }, l!.runs[1]!];
    const refused = buildScorecard([r!, l!], meta(OUT));
    expect(refused.invariants.find((x) => x.name === 'cas-respected')!.cells[LC]).toMatchObject({ status: 'not-applicable', reason: 'cross-instance cannot run on langchain-redis-history: needs the reference service' });
  });
});

it('counts a capped anomaly list as every anomaly it stands for', () => {
  const all = Array.from({ length: 250 }, (_, i) => ({ type: 'lost-write', message: `m${i}`, ops: [i] }));
  expect(anomalyCount(capAnomalies(all, 100))).toBe(250);
  expect(anomalyCount(capAnomalies(all.slice(0, 7), 100))).toBe(7);
});

describe('the reproduction table', () => {
  it('names only files and tests that exist', () => {
    for (const [backend, byInvariant] of Object.entries(REPROS)) {
      for (const [invariant, repro] of Object.entries(byInvariant)) {
        expect(existsSync(repro.file), `${backend} ${invariant}`).toBe(true);
        expect(readFileSync(repro.file, 'utf8'), `${backend} ${invariant}`).toContain(repro.test);
      }
    }
  });
});
