/**
 * The end-of-test summary: the object k6 hands to handleSummary(data), k6's text rendering of it,
 * and the legacy `--summary-export` JSON.
 */
import type { Metric, Submetric } from './metrics/registry.ts';
import { CounterSink, GaugeSink, RateSink, TrendSink, type Contains, type MetricType, type Sink } from './metrics/sinks.ts';
import type { GroupNode, TestRun } from './test-run.ts';
import type { ThresholdResult } from './thresholds.ts';

export interface SummaryMetric {
  type: MetricType;
  contains: Contains;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** The shape handleSummary(data) receives in k6. */
export interface SummaryData {
  root_group: GroupNode;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, SummaryMetric>;
  setup_data?: unknown;
}

function countOf(sink: Sink): number {
  if (sink instanceof TrendSink) return sink.count;
  if (sink instanceof CounterSink) return sink.count;
  if (sink instanceof RateSink) return sink.total;
  return (sink as GaugeSink).seen ? 1 : 0;
}

function valuesOf(sink: Sink, stats: readonly string[], durationMs: number): Record<string, number> {
  if (sink instanceof TrendSink) return sink.values(stats);
  if (sink instanceof CounterSink) return sink.values(durationMs);
  return sink.values();
}

export function buildSummary(
  run: TestRun,
  thresholds: ThresholdResult[],
  durationMs: number,
  trendStats: readonly string[],
  setupData: unknown,
): SummaryData {
  const byMetric = new Map<string, Record<string, { ok: boolean }>>();
  for (const t of thresholds) {
    const m = byMetric.get(t.metric) ?? {};
    m[t.source] = { ok: t.ok };
    byMetric.set(t.metric, m);
  }
  const metrics: Record<string, SummaryMetric> = {};
  const put = (name: string, target: Metric | Submetric, type: MetricType, contains: Contains) => {
    const th = byMetric.get(name);
    if (countOf(target.sink) === 0 && !th) return;
    metrics[name] = { type, contains, values: valuesOf(target.sink, trendStats, durationMs), ...(th ? { thresholds: th } : {}) };
  };
  for (const m of run.registry.metrics.values()) {
    put(m.name, m, m.type, m.contains);
    for (const sub of m.submetrics) put(sub.name, sub, m.type, m.contains);
  }
  const data: SummaryData = {
    root_group: run.rootGroup,
    options: { summaryTrendStats: [...trendStats], summaryTimeUnit: String(run.options.summaryTimeUnit ?? ''), noColor: Boolean(run.options.noColor) },
    state: { isStdOutTTY: Boolean(process.stdout.isTTY), isStdErrTTY: Boolean(process.stderr.isTTY), testRunDurationMs: durationMs },
    metrics,
  };
  if (setupData !== undefined) data.setup_data = setupData;
  return data;
}

const fmtMs = (ms: number): string => {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 1) return `${ms.toFixed(2)}ms`;
  return `${(ms * 1000).toFixed(2)}µs`;
};
const fmtNum = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(6).replace(/0+$/, ''));

/** k6's end-of-test text summary (the default when the script has no handleSummary). */
export function textSummary(data: SummaryData): string {
  const lines: string[] = [];
  const checks = (g: GroupNode, indent: string) => {
    if (g.name) lines.push(`${indent}█ ${g.name}`, '');
    for (const c of g.checks) {
      const mark = c.fails === 0 ? '✓' : '✗';
      lines.push(`${indent}  ${mark} ${c.name}${c.fails ? `\n${indent}   ↳  ${Math.round((100 * c.passes) / (c.passes + c.fails))}% — ✓ ${c.passes} / ✗ ${c.fails}` : ''}`);
    }
    for (const sub of g.groups) checks(sub, indent + '  ');
    if (g.checks.length) lines.push('');
  };
  checks(data.root_group, '    ');
  const names = Object.keys(data.metrics).sort();
  const width = Math.max(20, ...names.map((n) => n.length + 2));
  for (const name of names) {
    const m = data.metrics[name]!;
    const th = m.thresholds ? Object.values(m.thresholds) : [];
    const mark = th.length ? (th.every((t) => t.ok) ? '✓' : '✗') : ' ';
    let value: string;
    const v = m.values;
    if (m.type === 'trend') {
      value = Object.entries(v)
        .map(([k, x]) => `${k}=${m.contains === 'time' ? fmtMs(x) : fmtNum(x)}`)
        .join(' ');
    } else if (m.type === 'rate') value = `${((v.rate ?? 0) * 100).toFixed(2)}% ✓ ${v.passes} ✗ ${v.fails}`;
    else if (m.type === 'counter') value = `${fmtNum(v.count ?? 0)} ${(v.rate ?? 0).toFixed(6)}/s`;
    else value = `${fmtNum(v.value ?? 0)} min=${fmtNum(v.min ?? 0)} max=${fmtNum(v.max ?? 0)}`;
    lines.push(`   ${mark} ${(name + ' ').padEnd(width, '.')}: ${value}`);
  }
  return lines.join('\n') + '\n';
}

/** The legacy `--summary-export` JSON: flat values per metric, thresholds as {source: failed}. */
export function legacySummaryExport(data: SummaryData): unknown {
  const group = (g: GroupNode): unknown => ({
    name: g.name,
    path: g.path,
    id: g.id,
    groups: Object.fromEntries(g.groups.map((x) => [x.name, group(x)])),
    checks: Object.fromEntries(g.checks.map((c) => [c.name, c])),
  });
  const metrics: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(data.metrics)) {
    const flat: Record<string, unknown> = m.type === 'rate' ? { passes: m.values.passes, fails: m.values.fails, value: m.values.rate } : { ...m.values };
    if (m.thresholds) flat.thresholds = Object.fromEntries(Object.entries(m.thresholds).map(([s, t]) => [s, !t.ok]));
    metrics[name] = flat;
  }
  return { root_group: group(data.root_group), metrics };
}
