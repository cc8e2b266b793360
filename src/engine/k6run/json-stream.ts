/**
 * Reads k6's `--out json` stream (one JSON object per line) into the same registry the built-in
 * engine fills, so real k6 runs produce the same summary shape and HDR snapshots:
 *   {"type":"Metric","metric":"http_reqs","data":{"type":"counter","contains":"default","thresholds":["count>1"],...}}
 *   {"type":"Point","metric":"http_req_duration","data":{"time":"...","value":1.23,"tags":{"status":"200",...}}}
 * Lines may arrive split across chunks; a malformed line is counted, never thrown.
 */
import type { Registry, Tags } from '../metrics/registry.ts';
import type { Contains, MetricType } from '../metrics/sinks.ts';

/** Requests the history helper makes to the sink are not the scenario's traffic. */
export const HISTORY_REQUEST_NAME = 'stateproof_history';

export class K6JsonStream {
  private rest = '';
  points = 0;
  malformed = 0;
  /** metric name -> threshold sources k6 declared for it (submetrics under their full name). */
  readonly thresholds = new Map<string, string[]>();

  constructor(
    private readonly registry: Registry,
    /** Check results (from `checks` points), to rebuild the summary's group/check tree. */
    private readonly onCheck?: (group: string, name: string, ok: boolean) => void,
    /**
     * Submetrics the script's thresholds name (`http_req_failed{op:read}`): k6 writes no point
     * under a submetric's name, so each is bound to its parent before that parent's first sample
     * and then filled from the parent's points by their tags.
     */
    private readonly submetricKeys: readonly string[] = [],
  ) {
    for (const name of registry.metrics.keys()) this.bindSubmetrics(name);
  }

  private bindSubmetrics(name: string): void {
    const metric = this.registry.metrics.get(name);
    if (!metric) return;
    for (const key of this.submetricKeys) {
      const brace = key.indexOf('{');
      if (brace < 0 || key.slice(0, brace).trim() !== name || !key.endsWith('}')) continue;
      try {
        this.registry.submetric(metric, key.slice(brace + 1, -1));
      } catch {
        // A selector only k6 understands: k6's own verdict on it still stands, without an observed value.
      }
    }
  }

  feed(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.rest.trim()) this.line(this.rest);
    this.rest = '';
  }

  private line(line: string): void {
    if (!line.trim()) return;
    let o: { type?: string; metric?: string; data?: Record<string, unknown> };
    try {
      o = JSON.parse(line);
    } catch {
      this.malformed++;
      return;
    }
    const name = o.metric;
    if (typeof name !== 'string' || !o.data) {
      this.malformed++;
      return;
    }
    if (o.type === 'Metric') {
      const type = o.data.type as MetricType;
      if (!['counter', 'gauge', 'rate', 'trend'].includes(type)) {
        this.malformed++;
        return;
      }
      this.registry.define(name, type, (o.data.contains as Contains) ?? 'default');
      this.bindSubmetrics(name);
      const th = o.data.thresholds;
      if (Array.isArray(th) && th.length) this.thresholds.set(name, th.map(String));
      return;
    }
    if (o.type === 'Point') {
      const value = Number(o.data.value);
      const tags = (o.data.tags ?? {}) as Tags;
      if (!Number.isFinite(value)) {
        this.malformed++;
        return;
      }
      if (tags.name === HISTORY_REQUEST_NAME) return;
      const metric = this.registry.metrics.get(name) ?? this.registry.define(name, 'trend');
      if (metric.type === 'trend' && value < 0) {
        this.malformed++;
        return;
      }
      const series = metric.name.startsWith('http_req') ? this.registry.seriesKey(tags, tags.name === tags.url ? 'name' : undefined) : undefined;
      this.registry.add(metric, value, tags, series);
      if (name === 'checks' && tags.check !== undefined) this.onCheck?.(tags.group ?? '', tags.check, value !== 0);
      this.points++;
    }
  }
}
