/**
 * k6 thresholds: `{ "http_req_duration{status:200}": ["p(95)<200", { threshold: "rate<0.01",
 * abortOnFail: true, delayAbortEval: "10s" }] }`. Expressions are `<aggregation> <op> <number>`
 * with the aggregations k6 allows per metric type; a threshold on a metric the script never defines
 * is a config error, as in k6 (exit code 104).
 */
import { UsageError } from '../base/errors.ts';
import { parseDurationMs } from './duration.ts';
import type { Metric, Registry, Submetric } from './metrics/registry.ts';
import { CounterSink, GaugeSink, RateSink, TrendSink, type MetricType, type Sink } from './metrics/sinks.ts';

export interface ThresholdSpec {
  /** The metric key as written: `http_req_duration` or `http_req_duration{status:200}`. */
  metricKey: string;
  source: string;
  aggregation: string;
  operator: string;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs: number;
}

export interface ThresholdResult {
  metric: string;
  source: string;
  ok: boolean;
  /** The aggregated value the expression was evaluated on. */
  observed: number;
  abortOnFail: boolean;
}

const EXPR = /^\s*(count|rate|value|avg|min|max|med|p\(\s*\d+(?:\.\d+)?\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i;

const ALLOWED: Record<MetricType, (agg: string) => boolean> = {
  counter: (a) => a === 'count' || a === 'rate',
  gauge: (a) => a === 'value',
  rate: (a) => a === 'rate',
  trend: (a) => ['avg', 'min', 'max', 'med'].includes(a) || a.startsWith('p('),
};

export function parseThresholds(raw: unknown): ThresholdSpec[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError('options.thresholds must be an object of metric -> [expressions]');
  const out: ThresholdSpec[] = [];
  for (const [metricKey, list] of Object.entries(raw as Record<string, unknown>)) {
    const items = Array.isArray(list) ? list : [list];
    for (const item of items) {
      let source: unknown = item;
      let abortOnFail = false;
      let delayAbortEvalMs = 0;
      if (item && typeof item === 'object') {
        const o = item as { threshold?: unknown; abortOnFail?: unknown; delayAbortEval?: unknown };
        source = o.threshold;
        abortOnFail = o.abortOnFail === true;
        if (o.delayAbortEval !== undefined) delayAbortEvalMs = parseDurationMs(o.delayAbortEval, `thresholds.${metricKey}.delayAbortEval`);
      }
      if (typeof source !== 'string') throw new UsageError(`thresholds.${metricKey}: expected a string like "p(95)<200", got ${JSON.stringify(source)}`);
      const m = EXPR.exec(source);
      if (!m) {
        throw new UsageError(`thresholds.${metricKey}: "${source}" is not a threshold expression (e.g. "p(95)<200", "rate<0.01", "count>10", "avg<100")`);
      }
      out.push({
        metricKey,
        source,
        aggregation: m[1]!.replace(/\s+/g, '').toLowerCase(),
        operator: m[2]!,
        value: Number(m[3]),
        abortOnFail,
        delayAbortEvalMs,
      });
    }
  }
  return out;
}

interface Bound {
  spec: ThresholdSpec;
  target: Metric | Submetric;
}

/** Thresholds tied to the registry's metrics, evaluated during the run (abortOnFail) and at the end. */
export class Thresholds {
  private readonly bound: Bound[] = [];
  constructor(
    specs: ThresholdSpec[],
    registry: Registry,
    /** Names of metrics the engine cannot measure honestly: a threshold on one is refused by name. */
    unsupported: ReadonlySet<string>,
  ) {
    for (const spec of specs) {
      const brace = spec.metricKey.indexOf('{');
      const name = (brace < 0 ? spec.metricKey : spec.metricKey.slice(0, brace)).trim();
      if (unsupported.has(name)) {
        throw new UsageError(`threshold on '${name}': the built-in engine does not measure this metric (run with real k6 for it)`);
      }
      const metric = registry.metrics.get(name);
      if (!metric) throw new UsageError(`invalid threshold defined on ${spec.metricKey}: no metric named "${name}" found`);
      if (!ALLOWED[metric.type](spec.aggregation)) {
        throw new UsageError(`threshold "${spec.source}" on ${spec.metricKey}: '${spec.aggregation}' does not apply to a ${metric.type} metric`);
      }
      const target = brace < 0 ? metric : registry.submetric(metric, spec.metricKey.slice(brace + 1, spec.metricKey.lastIndexOf('}')));
      this.bound.push({ spec, target });
    }
  }

  get specs(): ThresholdSpec[] {
    return this.bound.map((b) => b.spec);
  }

  evaluate(elapsedMs: number): ThresholdResult[] {
    return this.bound.map(({ spec, target }) => {
      const observed = aggregate(target.sink, spec.aggregation, elapsedMs);
      return {
        metric: target.name,
        source: spec.source,
        ok: compare(observed, spec.operator, spec.value),
        observed,
        abortOnFail: spec.abortOnFail,
      };
    });
  }

  /** The first abortOnFail threshold failing past its delay, if any. */
  abortReason(elapsedMs: number): ThresholdResult | undefined {
    const results = this.evaluate(elapsedMs);
    return results.find((r, i) => !r.ok && r.abortOnFail && elapsedMs >= this.bound[i]!.spec.delayAbortEvalMs);
  }
}

function aggregate(sink: Sink, agg: string, elapsedMs: number): number {
  if (sink instanceof TrendSink) return sink.stat(agg) ?? NaN;
  if (sink instanceof CounterSink) return agg === 'count' ? sink.count : sink.values(elapsedMs).rate!;
  if (sink instanceof RateSink) return sink.rate;
  if (sink instanceof GaugeSink) return sink.value;
  return NaN;
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
    case '===':
      return a === b;
    case '!=':
      return a !== b;
  }
  return false;
}
