/**
 * Side-by-side comparison of runs (same scenario, different backends or configurations), each
 * figure marked better / worse / same against a baseline beyond a noise threshold.
 *
 * What gates (a "worse" here is a regression): an invariant that held in the baseline and fails;
 * a latency percentile worse by more than max(noisePct, noiseFloorMs) where both runs have at
 * least MIN_TAIL_SAMPLES samples beyond that percentile (a p99.9 from 20 000 samples rests on 20
 * values: sampling noise, not a finding); recovery time worse by more than max(noisePct, two
 * series intervals); memory per session worse by more than noisePct; error rate worse by more
 * than max(noisePct relative, 1 percentage point). Max latency and throughput are shown, never gated;
 * so is what the fault proxy added per store round trip, with a note where two runs' proxy costs
 * differ by more than noisePct of the baseline's latency (./proxy-cost.ts).
 */
import { decodeSnapshot } from '../record/hdr.ts';
import { findSnapshot, phaseOrder } from './snapshots.ts';
import { phaseLabel } from './format.ts';
import { PROXY_COST_FLOOR_MS, proxyCostDifference } from './proxy-cost.ts';
import type { RunResult } from './result-schema.ts';

export const COMPARE_DEFAULTS = { noisePct: 10, noiseFloorMs: 1, minTailSamples: 50 } as const;

export type Mark = 'baseline' | 'better' | 'worse' | 'same' | 'n/a';
export type Unit = 'ms' | 'bytes' | 'ratio' | 'req/s' | 'bool';

export interface CompareRow {
  section: 'invariants' | 'latency' | 'recovery' | 'memory' | 'load';
  label: string;
  unit: Unit;
  /** One per run, in the order given; null = not measured in that run. */
  values: Array<number | boolean | null>;
  marks: Mark[];
  /** Whether a "worse" in this row counts as a regression. */
  gated: boolean;
}

export interface Comparison {
  runs: Array<{ runId: string; label: string; scenario: string; pass: boolean }>;
  baselineIndex: number;
  noisePct: number;
  rows: CompareRow[];
  regressions: string[];
  notes: string[];
}

export interface CompareOptions {
  baselineIndex?: number;
  noisePct?: number;
  noiseFloorMs?: number;
  minTailSamples?: number;
}

const PERCENTILES: Array<[string, number]> = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p99.9', 99.9],
];

export function runLabels(results: readonly RunResult[]): string[] {
  const base = results.map((r) => r.scenario.backend ?? r.runId);
  return base.map((l, i) => (base.indexOf(l) !== base.lastIndexOf(l) ? `${l} (${results[i]!.runId})` : l));
}

export function compareResults(results: readonly RunResult[], opts: CompareOptions = {}): Comparison {
  const noisePct = opts.noisePct ?? COMPARE_DEFAULTS.noisePct;
  const floorMs = opts.noiseFloorMs ?? COMPARE_DEFAULTS.noiseFloorMs;
  const minTail = opts.minTailSamples ?? COMPARE_DEFAULTS.minTailSamples;
  const bi = opts.baselineIndex ?? 0;
  const base = results[bi];
  if (!base) throw new RangeError(`baseline index ${bi} is out of range for ${results.length} runs`);
  const rows: CompareRow[] = [];
  const notes: string[] = [];
  const scenarios = [...new Set(results.map((r) => r.scenario.name))];
  if (scenarios.length > 1) notes.push(`Runs are of different scenarios (${scenarios.join(', ')}): figures are not like for like.`);

  // Lower is better for every numeric row below except throughput; `tolerance` gives the noise band.
  const numericRow = (row: Omit<CompareRow, 'marks'>, tolerance: (b: number) => number, higherIsBetter = false): void => {
    const b = row.values[bi];
    const marks = row.values.map((v, i): Mark => {
      if (i === bi) return 'baseline';
      if (typeof v !== 'number' || typeof b !== 'number') return 'n/a';
      const delta = higherIsBetter ? b - v : v - b;
      const tol = tolerance(b);
      return delta > tol ? 'worse' : -delta > tol ? 'better' : 'same';
    });
    rows.push({ ...row, marks });
  };
  const rel = (b: number) => (Math.abs(b) * noisePct) / 100;

  for (const inv of base.invariants) {
    const values = results.map((r) => r.invariants.find((i) => i.name === inv.name)?.holds ?? null);
    const marks = values.map((v, i): Mark => (i === bi ? 'baseline' : v === null ? 'n/a' : v === inv.holds ? 'same' : v ? 'better' : 'worse'));
    rows.push({ section: 'invariants', label: inv.name, unit: 'bool', values, marks, gated: true });
  }

  const phases = phaseOrder(
    base.latency.histograms.filter((h) => h.instance === 'all' && h.kind === 'corrected').map((h) => h.phase),
    base.timeline.map((t) => t.id),
  );
  const ops = [...new Set(base.latency.histograms.map((h) => h.op))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a < b ? -1 : 1));
  for (const op of ops) {
    for (const phase of phases) {
      const hists = results.map((r) => {
        const s = findSnapshot(r.latency.histograms, { op, phase });
        return s && s.count > 0 ? decodeSnapshot(s.snapshot) : null;
      });
      if (!hists[bi]) continue;
      const name = `${op === 'all' ? 'all ops' : op} · ${phase === 'all' ? 'whole run' : phaseLabel(phase)}`;
      for (const [pl, p] of PERCENTILES) {
        const enough = hists.every((h) => h === null || h.totalCount * (1 - p / 100) >= minTail);
        numericRow(
          { section: 'latency', label: `${name} ${pl}`, unit: 'ms', values: hists.map((h) => (h ? h.getValueAtPercentile(p) / 1000 : null)), gated: enough },
          (b) => Math.max(rel(b), floorMs),
        );
      }
      numericRow({ section: 'latency', label: `${name} max`, unit: 'ms', values: hists.map((h) => (h ? h.maxValue / 1000 : null)), gated: false }, (b) => Math.max(rel(b), floorMs));
    }
  }

  for (const f of base.faults) {
    const interval = base.metrics.series.intervalMs;
    const values = results.map((r) => {
      const x = r.faults.find((g) => g.faultId === f.faultId);
      // Never recovered ranks below any recovery time.
      return x ? (x.recovered ? x.timeToRecoverMs : Number.POSITIVE_INFINITY) : null;
    });
    numericRow({ section: 'recovery', label: `time to recover · ${f.faultId}`, unit: 'ms', values, gated: true }, (b) => (Number.isFinite(b) ? Math.max(rel(b), 2 * interval) : 0));
  }

  const mem = (pick: (r: RunResult) => number | null | undefined) => results.map((r) => pick(r) ?? null);
  if (results.some((r) => r.capacity)) {
    numericRow({ section: 'memory', label: 'Redis used_memory per session', unit: 'bytes', values: mem((r) => r.capacity?.measured.usedMemoryPerSessionBytes), gated: true }, rel);
    numericRow({ section: 'memory', label: 'state bytes per session p99', unit: 'bytes', values: mem((r) => r.capacity?.measured.bytesPerSession.p99), gated: true }, rel);
  }
  numericRow({ section: 'load', label: 'error rate', unit: 'ratio', values: results.map((r) => r.metrics.errorRate), gated: true }, (b) => Math.max(rel(b), 0.01));
  numericRow({ section: 'load', label: 'throughput', unit: 'req/s', values: results.map((r) => r.metrics.throughputPerSec), gated: false }, rel, true);

  const labels = runLabels(results);
  // The harness's own cost: shown and noted where it differs enough to matter, never gated.
  if (results.some((r) => r.proxyCost)) {
    for (const p of ['p50', 'p99'] as const) {
      numericRow({ section: 'load', label: `fault proxy added per store round trip ${p}`, unit: 'ms', values: results.map((r) => r.proxyCost?.addedMs[p] ?? null), gated: false }, (b) => Math.max(rel(b), PROXY_COST_FLOOR_MS));
    }
    const all = findSnapshot(base.latency.histograms, {});
    const h = all && all.count > 0 ? decodeSnapshot(all.snapshot) : null;
    const baseLatency = h ? { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 } : null;
    results.forEach((r, i) => {
      if (i === bi) return;
      const note = proxyCostDifference(base.proxyCost, r.proxyCost, baseLatency, noisePct, { base: labels[bi]!, other: labels[i]! });
      if (note) notes.push(note);
    });
  }
  const regressions: string[] = [];
  for (const row of rows) {
    if (!row.gated) continue;
    row.marks.forEach((m, i) => {
      if (m === 'worse') regressions.push(`${labels[i]}: ${row.section} ${row.label} worse than baseline ${labels[bi]}`);
    });
  }
  return {
    runs: results.map((r, i) => ({ runId: r.runId, label: labels[i]!, scenario: r.scenario.name, pass: r.verdict.pass })),
    baselineIndex: bi,
    noisePct,
    rows,
    regressions,
    notes,
  };
}
