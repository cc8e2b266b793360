/**
 * Side-by-side comparison of runs (same scenario, different backends or configurations), each
 * figure marked against a baseline:
 *
 *   worse / better  the difference is practical (beyond --noise-pct of the baseline and the row's
 *                   floor) AND larger than sampling noise (the runs' 99 % intervals, from the HDR
 *                   counts, do not overlap — see noise-bounds.ts);
 *   noise           it moved more than --noise-pct, but within that noise: the cell says which bound;
 *   same            it did not move beyond --noise-pct.
 *
 * What gates (a gated "worse" is a regression, what --fail-on-regression exits 1 for): what a user
 * feels — an invariant that held and fails now, p99 latency (per op and phase, when both runs have
 * enough samples to bound it), error rate, time to recover per fault, memory per session. Every
 * other row says why it is not gated (row.whyNotGated).
 */
import { decodeSnapshot as decodeHistogram, type Histogram } from '../record/hdr.ts';
import { findSnapshot, phaseOrder } from './snapshots.ts';
import { PROXY_COST_FLOOR_MS, proxyCostDifference } from './proxy-cost.ts';
import { phaseLabel } from './format.ts';
import { DEFAULT_CONFIDENCE, percentileInterval, proportionInterval, samplesToBound, type Interval } from './noise-bounds.ts';
import type { RunResult } from './result-schema.ts';

export const COMPARE_DEFAULTS = { noisePct: 10, noiseFloorMs: 1, errorRateFloor: 0.01, confidence: DEFAULT_CONFIDENCE } as const;

export type Mark = 'baseline' | 'better' | 'worse' | 'noise' | 'same' | 'n/a';
export type Unit = 'ms' | 'bytes' | 'ratio' | 'req/s' | 'bool';
export type Section = 'invariants' | 'latency' | 'recovery' | 'memory' | 'load';

export interface CompareRow {
  section: Section;
  label: string;
  unit: Unit;
  /** One per run, in the order given; null = not measured in that run; Infinity = never recovered. */
  values: Array<number | boolean | null>;
  /** Sampling-noise interval per run, where the figure has one (percentiles, error rate). */
  bounds?: Array<Interval | null>;
  marks: Mark[];
  /** Per run: why a cell is marked noise (which bound held it back), or undefined. */
  why: Array<string | undefined>;
  /** The practical difference a run must exceed, in the row's unit (from the baseline's value). */
  tolerance: number | null;
  /** Whether a "worse" in this row counts as a regression. */
  gated: boolean;
  /** Why this row does not gate, with its own figures (e.g. the sample counts). */
  whyNotGated?: string;
  /** The same reason without the row's figures, so the terminal can say it once for many rows. */
  notGatedGroup?: string;
  /** In the short table printed first. */
  headline?: boolean;
}

export interface Regression {
  run: string;
  section: Section;
  label: string;
  unit: Unit;
  before: number | boolean | null;
  after: number | boolean | null;
  /** What the difference had to exceed, in words ("more than 10.5 ms (10 %, floor 1 ms) and outside …"). */
  threshold: string;
}

export interface Comparison {
  runs: Array<{ runId: string; label: string; scenario: string; pass: boolean }>;
  baselineIndex: number;
  noisePct: number;
  noiseFloorMs: number;
  confidence: number;
  rows: CompareRow[];
  regressions: Regression[];
  notes: string[];
}

export interface CompareOptions {
  baselineIndex?: number;
  noisePct?: number;
  noiseFloorMs?: number;
  confidence?: number;
}

const PERCENTILES: Array<[string, number]> = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p99.9', 99.9],
];
const GATED_PERCENTILE = 99;
const MAX_WHY = 'max is one sample: the slowest answer of one run says little about the next';
const THROUGHPUT_WHY = 'throughput is set by the scenario’s arrival rate (open model): shown for context';

export function runLabels(results: readonly RunResult[]): string[] {
  const base = results.map((r) => r.scenario.backend ?? r.runId);
  return base.map((l, i) => (base.indexOf(l) !== base.lastIndexOf(l) ? `${l} (${results[i]!.runId})` : l));
}

const pct = (x: number) => `${Number(x.toFixed(1))} %`;

export function compareResults(results: readonly RunResult[], opts: CompareOptions = {}): Comparison {
  const noisePct = opts.noisePct ?? COMPARE_DEFAULTS.noisePct;
  const floorMs = opts.noiseFloorMs ?? COMPARE_DEFAULTS.noiseFloorMs;
  const confidence = opts.confidence ?? COMPARE_DEFAULTS.confidence;
  const conf = `${pct(confidence * 100)}`;
  const bi = opts.baselineIndex ?? 0;
  const base = results[bi];
  if (!base) throw new RangeError(`baseline index ${bi} is out of range for ${results.length} runs`);
  const labels = runLabels(results);
  const rows: CompareRow[] = [];
  const notes: string[] = [];
  const scenarios = [...new Set(results.map((r) => r.scenario.name))];
  if (scenarios.length > 1) notes.push(`Runs are of different scenarios (${scenarios.join(', ')}): figures are not like for like.`);
  const rel = (b: number) => (Math.abs(b) * noisePct) / 100;

  /**
   * Marks for a numeric row. `tol` is the practical bound; `distinct(i)` says whether run i is
   * outside sampling noise in the direction of the difference (true when the row has no interval).
   */
  const numericRow = (
    row: Omit<CompareRow, 'marks' | 'why' | 'tolerance'>,
    tol: (b: number) => { value: number; why: string },
    opt: { higherIsBetter?: boolean; distinct?: (i: number, worse: boolean) => string | null } = {},
  ): CompareRow => {
    const b = row.values[bi];
    const t = typeof b === 'number' ? tol(b) : null;
    const why: Array<string | undefined> = [];
    const marks = row.values.map((v, i): Mark => {
      if (i === bi) return 'baseline';
      if (typeof v !== 'number' || typeof b !== 'number' || t === null) return 'n/a';
      if (v === b) return 'same';
      if (!Number.isFinite(b) || !Number.isFinite(v)) return Number.isFinite(v) === !!opt.higherIsBetter ? 'worse' : 'better';
      const delta = opt.higherIsBetter ? b - v : v - b;
      if (Math.abs(delta) <= rel(b)) return 'same';
      if (Math.abs(delta) <= t.value) {
        why[i] = t.why;
        return 'noise';
      }
      const overlap = opt.distinct?.(i, delta > 0) ?? null;
      if (overlap !== null) {
        why[i] = overlap;
        return 'noise';
      }
      return delta > 0 ? 'worse' : 'better';
    });
    const full: CompareRow = { ...row, marks, why, tolerance: t?.value ?? null };
    rows.push(full);
    return full;
  };

  // Invariants: a held invariant that fails now is a regression; nothing is noise.
  for (const inv of base.invariants) {
    const values = results.map((r) => r.invariants.find((i) => i.name === inv.name)?.holds ?? null);
    const marks = values.map((v, i): Mark => (i === bi ? 'baseline' : v === null ? 'n/a' : v === inv.holds ? 'same' : v ? 'better' : 'worse'));
    rows.push({ section: 'invariants', label: inv.name, unit: 'bool', values, marks, why: [], tolerance: null, gated: true });
  }

  // Latency: every percentile per op and phase, each with its order-statistic interval.
  const phases = phaseOrder(
    base.latency.histograms.filter((h) => h.instance === 'all' && h.kind === 'corrected').map((h) => h.phase),
    base.timeline.map((t) => t.id),
  );
  const ops = [...new Set(base.latency.histograms.map((h) => h.op))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a < b ? -1 : 1));
  const needed = new Map(PERCENTILES.map(([, p]) => [p, samplesToBound(p, confidence)]));
  for (const op of ops) {
    for (const phase of phases) {
      const hists: Array<Histogram | null> = results.map((r) => {
        const s = findSnapshot(r.latency.histograms, { op, phase });
        return s && s.count > 0 ? decodeHistogram(s.snapshot) : null;
      });
      if (!hists[bi]) continue;
      const name = `${op === 'all' ? 'all ops' : op} · ${phase === 'all' ? 'whole run' : phaseLabel(phase)}`;
      const headline = op === 'all' && phase === 'all';
      for (const [pl, p] of PERCENTILES) {
        const bounds = hists.map((h) => (h ? toMs(percentileInterval(h, p, confidence)) : null));
        const thin = hists.map((h, i) => (h && h.totalCount < needed.get(p)! ? `${labels[i]} has ${h.totalCount}` : null)).filter((x): x is string => x !== null);
        const group =
          p !== GATED_PERCENTILE
            ? p < GATED_PERCENTILE
              ? 'p50 and p90 are context: the gate is on p99, the tail users feel (the middle moves with machine load)'
              : `${pl} is beyond the gated p99 and rests on few samples (a ${conf} interval needs ≥ ${needed.get(p)})`
            : thin.length
              ? `p99 where a run has fewer than the ${needed.get(p)} samples a ${conf} interval needs in that op and phase`
              : undefined;
        const whyNotGated = group && thin.length && p === GATED_PERCENTILE ? `too few samples to bound p99 (${thin.join(', ')}; a ${conf} interval needs ≥ ${needed.get(p)})` : group;
        numericRow(
          { section: 'latency', label: `${name} ${pl}`, unit: 'ms', values: hists.map((h) => (h ? h.getValueAtPercentile(p) / 1000 : null)), bounds, gated: whyNotGated === undefined, ...(whyNotGated ? { whyNotGated, notGatedGroup: group } : {}), headline: headline && (p === 50 || p === 99) },
          (b) => (rel(b) >= floorMs ? { value: rel(b), why: `within ${noisePct} %` } : { value: floorMs, why: `within the ${floorMs} ms floor` }),
          { distinct: (i, worse) => overlapWhy(bounds[bi] ?? null, bounds[i] ?? null, worse, conf, 'ms') },
        );
      }
      numericRow(
        { section: 'latency', label: `${name} max`, unit: 'ms', values: hists.map((h) => (h ? h.maxValue / 1000 : null)), gated: false, whyNotGated: MAX_WHY, notGatedGroup: MAX_WHY },
        (b) => ({ value: Math.max(rel(b), floorMs), why: `within max(${noisePct} %, ${floorMs} ms)` }),
        { distinct: () => 'a single sample has no noise bound' },
      );
    }
  }

  // Recovery: read off the first healthy operation after the fault, so only as fine as the gap
  // between operations; that gap is the floor.
  const gapMs = Math.max(...results.map((r) => (r.metrics.throughputPerSec > 0 ? 1000 / r.metrics.throughputPerSec : 0)));
  for (const f of base.faults) {
    const values = results.map((r) => {
      const x = r.faults.find((g) => g.faultId === f.faultId);
      return x ? (x.recovered ? x.timeToRecoverMs : Number.POSITIVE_INFINITY) : null;
    });
    numericRow({ section: 'recovery', label: `time to recover · ${f.faultId}`, unit: 'ms', values, gated: true, headline: true }, (b) => {
      const floor = Math.max(floorMs, gapMs);
      return rel(b) >= floor
        ? { value: rel(b), why: `within ${noisePct} %` }
        : { value: floor, why: gapMs > floorMs ? `within one operation gap (${fmt(gapMs)} ms at the slower run's rate): recovery is read off the first healthy answer` : `within the ${floorMs} ms floor` };
    });
  }

  if (results.some((r) => r.capacity)) {
    const mem = (pick: (r: RunResult) => number | null | undefined) => results.map((r) => pick(r) ?? null);
    const byRel = (b: number) => ({ value: rel(b), why: `within ${noisePct} %` });
    numericRow({ section: 'memory', label: 'Redis used_memory per session', unit: 'bytes', values: mem((r) => r.capacity?.measured.usedMemoryPerSessionBytes), gated: true, headline: true }, byRel);
    numericRow({ section: 'memory', label: 'state bytes per session p99', unit: 'bytes', values: mem((r) => r.capacity?.measured.bytesPerSession.p99), gated: true }, byRel);
  }

  const errBounds = results.map((r) => proportionInterval(r.metrics.totals.fail + r.metrics.totals.unknown, r.metrics.totals.count, confidence));
  numericRow(
    { section: 'load', label: 'error rate', unit: 'ratio', values: results.map((r) => r.metrics.errorRate), bounds: errBounds, gated: true, headline: true },
    (b) => (rel(b) >= COMPARE_DEFAULTS.errorRateFloor ? { value: rel(b), why: `within ${noisePct} %` } : { value: COMPARE_DEFAULTS.errorRateFloor, why: 'within 1 percentage point' }),
    { distinct: (i, worse) => overlapWhy(errBounds[bi]!, errBounds[i]!, worse, conf, 'ratio') },
  );
  numericRow(
    { section: 'load', label: 'throughput', unit: 'req/s', values: results.map((r) => r.metrics.throughputPerSec), gated: false, whyNotGated: THROUGHPUT_WHY, notGatedGroup: THROUGHPUT_WHY, headline: true },
    (b) => ({ value: rel(b), why: `within ${noisePct} %` }),
    { higherIsBetter: true },
  );

  // The harness's own cost: shown and noted where it differs enough to matter, never gated.
  if (results.some((r) => r.proxyCost)) {
    const PROXY_WHY = "the harness's own cost, not the backend's: noted below when two runs differ enough to matter";
    for (const p of ['p50', 'p99'] as const) {
      numericRow(
        { section: 'load', label: `fault proxy added per store round trip ${p}`, unit: 'ms', values: results.map((r) => r.proxyCost?.addedMs[p] ?? null), gated: false, whyNotGated: PROXY_WHY, notGatedGroup: PROXY_WHY },
        (b) => ({ value: Math.max(rel(b), PROXY_COST_FLOOR_MS), why: `within ${PROXY_COST_FLOOR_MS} ms` }),
      );
    }
    const all = findSnapshot(base.latency.histograms, {});
    const h = all && all.count > 0 ? decodeHistogram(all.snapshot) : null;
    const baseLatency = h ? { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 } : null;
    results.forEach((r, i) => {
      if (i === bi) return;
      const note = proxyCostDifference(base.proxyCost, r.proxyCost, baseLatency, noisePct, { base: labels[bi]!, other: labels[i]! });
      if (note) notes.push(note);
    });
  }

  const regressions: Regression[] = [];
  for (const row of rows) {
    if (!row.gated) continue;
    row.marks.forEach((m, i) => {
      if (m !== 'worse') return;
      regressions.push({ run: labels[i]!, section: row.section, label: row.label, unit: row.unit, before: row.values[bi] ?? null, after: row.values[i] ?? null, threshold: thresholdText(row, bi, noisePct, floorMs, conf) });
    });
  }
  return {
    runs: results.map((r, i) => ({ runId: r.runId, label: labels[i]!, scenario: r.scenario.name, pass: r.verdict.pass })),
    baselineIndex: bi,
    noisePct,
    noiseFloorMs: floorMs,
    confidence,
    rows,
    regressions,
    notes,
  };
}

function toMs(i: Interval): Interval {
  return { low: i.low / 1000, high: i.high === null ? null : i.high / 1000 };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtIn = (x: number, unit: 'ms' | 'ratio') => (unit === 'ratio' ? `${fmt(x * 100)} %` : `${fmt(x)} ms`);
const fmtInterval = (i: Interval, unit: 'ms' | 'ratio') => `${fmtIn(i.low, unit)}–${i.high === null ? '∞' : fmtIn(i.high, unit)}`;

/** null when run i is outside the baseline's interval in the direction of the difference; else why not. */
function overlapWhy(b: Interval | null, v: Interval | null, worse: boolean, conf: string, unit: 'ms' | 'ratio'): string | null {
  if (!b || !v) return null;
  const distinct = worse ? b.high !== null && v.low > b.high : v.high !== null && b.low > v.high;
  return distinct ? null : `inside sampling noise: the ${conf} intervals overlap (baseline ${fmtInterval(b, unit)}, this run ${fmtInterval(v, unit)})`;
}

function thresholdText(row: CompareRow, bi: number, noisePct: number, floorMs: number, conf: string): string {
  if (row.section === 'invariants') return 'held in the baseline';
  const b = row.values[bi];
  if (typeof b === 'number' && !Number.isFinite(b)) return 'the baseline never recovered either';
  const unitText = (x: number) => (row.unit === 'ratio' ? `${fmt(x * 100)} percentage points` : row.unit === 'bytes' ? `${Math.round(x)} B` : `${fmt(x)} ms`);
  const tol = row.tolerance === null ? '' : `worse by more than ${unitText(row.tolerance)}`;
  const floorNote = row.section === 'latency' ? ` (${noisePct} %, floor ${floorMs} ms)` : row.section === 'load' ? ` (${noisePct} %, floor 1 percentage point)` : ` (${noisePct} %${row.section === 'recovery' ? ', floor one operation gap' : ''})`;
  const bounds = row.bounds?.[bi];
  const outside = bounds ? ` and above the baseline's ${conf} interval (${fmtInterval(bounds, row.unit === 'ratio' ? 'ratio' : 'ms')})` : '';
  return `${tol}${floorNote}${outside}`;
}
