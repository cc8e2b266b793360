/**
 * A run's metrics as plain data, and their exact merge: how runners (local processes, real k6
 * processes) hand what they measured to the run that records them all. Everything here adds up
 * without loss — counts, sums, passes, HDR buckets — so thresholds and percentiles evaluated over
 * the merge equal those of one process that had seen every sample (the HDR range is fixed, so
 * snapshot buckets line up; see src/record/hdr.ts).
 *
 *   runner: TestRun ──exportMetrics()──> MetricsState (JSON) ──sink──> mergeMetrics(into, state)
 *
 * Gauges are the exception, as they are in k6's own cloud aggregation: a gauge is a last value per
 * process, so across runners `value` and `max` add up (the fleet's VUs) and `min` is the least.
 */
import type { EncodedHistogram } from '../../record/hdr.ts';
import { decodeSnapshot } from '../../record/hdr.ts';
import type { GroupNode, TestRun } from '../test-run.ts';
import type { HdrSnapshot, Metric, Submetric } from './registry.ts';
import { CounterSink, GaugeSink, RateSink, TrendSink, type Contains, type MetricType, type Sink } from './sinks.ts';

export const METRICS_STATE_VERSION = 1;

export type SinkState =
  | { type: 'trend'; count: number; sum: number; min: number | null; max: number | null; hdr: EncodedHistogram }
  | { type: 'counter'; count: number }
  | { type: 'rate'; passes: number; total: number }
  | { type: 'gauge'; value: number; min: number | null; max: number | null; seen: boolean };

export interface MetricState {
  name: string;
  type: MetricType;
  contains: Contains;
  sink: SinkState;
  /** Submetrics by their selector (`status:200,method:GET`), as thresholds made them. */
  submetrics: Array<{ selector: string; sink: SinkState }>;
}

export interface CheckState {
  path: string;
  name: string;
  passes: number;
  fails: number;
}

/** What one runner measured, complete enough to merge exactly. */
export interface MetricsState {
  version: typeof METRICS_STATE_VERSION;
  metrics: MetricState[];
  series: HdrSnapshot[];
  /** Checks by group path ('' the root, '::setup' …). */
  checks: Array<{ group: string; checks: CheckState[] }>;
  counts: { requests: number; requestErrors: number; iterations: number; droppedIterations: number; historyEntries: number; vusMax: number };
  /** The script's options.thresholds as written (every runner has the same). */
  thresholds: unknown;
  durationMs: number;
  exitCode: number;
  aborted?: { reason: string; exitCode: number };
}

const fin = (n: number): number | null => (Number.isFinite(n) ? n : null);

function sinkState(sink: Sink): SinkState {
  if (sink instanceof TrendSink) return { type: 'trend', count: sink.count, sum: sink.sum, min: fin(sink.min), max: fin(sink.max), hdr: sink.hdr.encode() };
  if (sink instanceof CounterSink) return { type: 'counter', count: sink.count };
  if (sink instanceof RateSink) return { type: 'rate', passes: sink.passes, total: sink.total };
  const g = sink as GaugeSink;
  return { type: 'gauge', value: g.value, min: fin(g.min), max: fin(g.max), seen: g.seen };
}

function mergeSink(into: Sink, s: SinkState): void {
  if (into instanceof TrendSink && s.type === 'trend') {
    into.count += s.count;
    into.sum += s.sum;
    if (s.min !== null && s.min < into.min) into.min = s.min;
    if (s.max !== null && s.max > into.max) into.max = s.max;
    const h = decodeSnapshot(s.hdr.snapshot);
    into.hdr.add(h, s.hdr.saturated);
    h.destroy();
  } else if (into instanceof CounterSink && s.type === 'counter') into.count += s.count;
  else if (into instanceof RateSink && s.type === 'rate') {
    into.passes += s.passes;
    into.total += s.total;
  } else if (into instanceof GaugeSink && s.type === 'gauge') {
    if (!s.seen) return;
    into.value = (into.seen ? into.value : 0) + s.value;
    into.max = (into.seen ? into.max : 0) + (s.max ?? 0);
    if (s.min !== null && s.min < into.min) into.min = s.min;
    into.seen = true;
  } else throw new Error(`metrics merge: a ${s.type} state cannot go into a ${into.constructor.name}`);
}

function groups(g: GroupNode, out: MetricsState['checks']): void {
  if (g.checks.length) out.push({ group: g.path, checks: g.checks.map((c) => ({ path: c.path, name: c.name, passes: c.passes, fails: c.fails })) });
  for (const sub of g.groups) groups(sub, out);
}

const selectorOf = (sub: Submetric) => sub.match.map(([k, v]) => `${k}:${v}`).join(',');

export function exportMetrics(run: TestRun, r: { durationMs: number; exitCode: number; droppedIterations: number; aborted?: { reason: string; exitCode: number } }): MetricsState {
  const metrics: MetricState[] = [];
  for (const m of run.registry.metrics.values()) {
    metrics.push({ name: m.name, type: m.type, contains: m.contains, sink: sinkState(m.sink), submetrics: m.submetrics.map((s) => ({ selector: selectorOf(s), sink: sinkState(s.sink) })) });
  }
  const checks: MetricsState['checks'] = [];
  groups(run.rootGroup, checks);
  return {
    version: METRICS_STATE_VERSION,
    metrics,
    series: run.registry.snapshots(),
    checks,
    counts: { requests: run.requests, requestErrors: run.requestErrors, iterations: run.iterationsCompleted, droppedIterations: r.droppedIterations, historyEntries: run.historyEntries, vusMax: run.vusInitialized },
    thresholds: run.options.thresholds ?? null,
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    ...(r.aborted ? { aborted: r.aborted } : {}),
  };
}

/** Adds a runner's state into `run` (its registry, checks and counters). */
export function mergeMetrics(run: TestRun, s: MetricsState): void {
  for (const m of s.metrics) {
    const into: Metric = run.registry.define(m.name, m.type, m.contains);
    mergeSink(into.sink, m.sink);
    for (const sub of m.submetrics) mergeSink(run.registry.submetric(into, sub.selector).sink, sub.sink);
  }
  for (const snap of s.series) run.registry.addSnapshot(snap);
  for (const g of s.checks) {
    const node = run.group(g.group);
    for (const c of g.checks) {
      let found = node.checks.find((x) => x.name === c.name);
      if (!found) {
        run.check(g.group, c.name, true);
        found = node.checks.find((x) => x.name === c.name)!;
        found.passes--;
      }
      found.passes += c.passes;
      found.fails += c.fails;
    }
  }
  run.requests += s.counts.requests;
  run.requestErrors += s.counts.requestErrors;
  run.iterationsCompleted += s.counts.iterations;
  run.historyEntries += s.counts.historyEntries;
  run.vusInitialized += s.counts.vusMax;
}

/** Why `x` cannot be merged (the sink checks a runner's metrics with it), or undefined. */
export function metricsStateProblem(x: unknown): string | undefined {
  const o = x as Partial<MetricsState>;
  if (o.version !== METRICS_STATE_VERSION) return `version must be ${METRICS_STATE_VERSION} (runner and harness from different stateproof versions?)`;
  if (!Array.isArray(o.metrics) || !Array.isArray(o.series) || !Array.isArray(o.checks)) return 'metrics, series and checks must be arrays';
  if (!o.counts || typeof o.counts !== 'object') return 'counts missing';
  for (const k of ['requests', 'requestErrors', 'iterations', 'droppedIterations', 'historyEntries', 'vusMax'] as const) if (!Number.isFinite(o.counts[k])) return `counts.${k} must be a number`;
  if (!Number.isFinite(o.durationMs) || !Number.isInteger(o.exitCode)) return 'durationMs and exitCode must be numbers';
  for (const m of o.metrics) {
    if (!m || typeof m.name !== 'string' || !['trend', 'counter', 'rate', 'gauge'].includes(m.type) || !m.sink || m.sink.type !== m.type || !Array.isArray(m.submetrics)) return `metric ${JSON.stringify((m as { name?: unknown })?.name)} is malformed`;
    if (m.sink.type === 'trend' && typeof m.sink.hdr?.snapshot !== 'string') return `metric ${m.name}: trend without an HDR snapshot`;
  }
  for (const s of o.series) if (!s || typeof s.snapshot !== 'string' || typeof s.metric !== 'string' || (s.kind !== 'value' && s.kind !== 'corrected') || !s.tags || typeof s.tags !== 'object') return 'a series snapshot is malformed';
  return undefined;
}
