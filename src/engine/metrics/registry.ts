/**
 * The metrics of one run, k6's model: a metric has a type and a sink for all its samples, plus
 * submetrics (`http_req_duration{status:200}`) created for thresholds, each with its own sink fed by
 * the samples whose tags match.
 *
 * Beside k6's sinks, trends keep HDR histograms per SERIES (a tag set, minus the per-request `url`)
 * for export, and a second "corrected" family measured from the intended start (coordinated omission).
 *
 *   sample(metric, value, tags) ─┬─> metric.sink                       (summary, thresholds)
 *                                ├─> matching submetric sinks          (tag-filtered thresholds)
 *                                └─> series[key].hdr (trends only)     (compressed snapshots, merge)
 */
import { UsageError } from '../../base/errors.ts';
import { decodeSnapshot, LatencyHistogram, msToUs, type EncodedHistogram } from '../../record/hdr.ts';
import { newSink, TrendSink, type Contains, type MetricType, type Sink } from './sinks.ts';

export type Tags = Record<string, string>;

export interface Submetric {
  /** As written in thresholds, normalised: `http_req_duration{status:200}`. */
  name: string;
  parent: Metric;
  match: Array<[string, string]>;
  sink: Sink;
}

export interface Metric {
  name: string;
  type: MetricType;
  contains: Contains;
  sink: Sink;
  submetrics: Submetric[];
  /** A trend exported per series (decided once here, not per sample). */
  hdrSeries: boolean;
}

export interface Series {
  metric: string;
  kind: 'value' | 'corrected';
  tags: Tags;
  hdr: LatencyHistogram;
}

export interface SeriesRef {
  key: string;
  tags: Tags;
  /** Series already looked up through this ref, by metric name (saves building map keys per sample). */
  values?: Map<string, Series>;
  corrected?: Map<string, Series>;
}

/** Distinct tag sets seen are few; past this many, refs are no longer memoised (memory stays bounded). */
const MAX_MEMO_REFS = 10_000;

/** One HDR series exported as a compressed snapshot (µs integers), with its saturation count. */
export interface HdrSnapshot extends EncodedHistogram {
  metric: string;
  /** `value`: the metric as k6 defines it (service time for http_req_duration); `corrected`: from intended start. */
  kind: 'value' | 'corrected';
  tags: Tags;
}

/** Trends summarised by k6 but not exported per series (they only split http_req_duration). */
const NO_SERIES_METRICS = new Set(['http_req_waiting', 'http_req_receiving']);

/** Tags left out of series keys: unique per request, they would make one histogram per URL. */
const NOT_SERIES_TAGS = new Set(['url']);

export class Registry {
  readonly metrics = new Map<string, Metric>();
  private readonly series = new Map<string, Series>();
  private readonly refs = new Map<string, SeriesRef>();

  define(name: string, type: MetricType, contains: Contains = 'default'): Metric {
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) {
        throw new UsageError(`metric '${name}' is already defined as a ${existing.type}; it cannot also be a ${type}`);
      }
      return existing;
    }
    const metric: Metric = { name, type, contains, sink: newSink(type), submetrics: [], hdrSeries: type === 'trend' && !NO_SERIES_METRICS.has(name) };
    this.metrics.set(name, metric);
    return metric;
  }

  /** A submetric from its threshold key; the parent metric may be defined later by the script. */
  submetric(parent: Metric, selector: string): Submetric {
    const match = parseSelector(selector, parent.name);
    const name = `${parent.name}{${match.map(([k, v]) => `${k}:${v}`).join(',')}}`;
    const found = parent.submetrics.find((s) => s.name === name);
    if (found) return found;
    const sub: Submetric = { name, parent, match, sink: newSink(parent.type) };
    parent.submetrics.push(sub);
    return sub;
  }

  /**
   * Adds a sample. Callers that add several samples with one tag set pass the series once computed
   * (`seriesKey(tags)`); it also lets http leave out a `name` tag that merely repeats the URL.
   */
  add(metric: Metric, value: number, tags: Tags, series?: SeriesRef): void {
    metric.sink.add(value);
    const subs = metric.submetrics;
    for (let i = 0; i < subs.length; i++) {
      if (matches(subs[i]!.match, tags)) subs[i]!.sink.add(value);
    }
    if (metric.hdrSeries) this.seriesFor(metric.name, 'value', series ?? this.seriesKey(tags)).hdr.recordUs(msToUs(value));
  }

  /** Latency from the intended start, kept beside the metric's own value (never in k6's summary). */
  addCorrected(metricName: string, valueMs: number, series: SeriesRef): void {
    this.seriesFor(metricName, 'corrected', series).hdr.recordUs(msToUs(valueMs));
  }

  seriesKey(tags: Tags, leaveOut?: string): SeriesRef {
    // Memoised by the tags in insertion order (cheap to build); the ref itself is order-independent.
    let sig = leaveOut ?? '';
    for (const k in tags) sig += `\u0001${k}\u0002${tags[k]}`;
    const memo = this.refs.get(sig);
    if (memo) return memo;
    const ref = this.buildRef(tags, leaveOut);
    if (this.refs.size < MAX_MEMO_REFS) this.refs.set(sig, ref);
    return ref;
  }

  private buildRef(tags: Tags, leaveOut?: string): SeriesRef {
    let key = '';
    const kept: Tags = {};
    for (const k of Object.keys(tags).sort()) {
      if (NOT_SERIES_TAGS.has(k) || k === leaveOut) continue;
      key += `${k}=${tags[k]}\u0001`;
      kept[k] = tags[k]!;
    }
    return { key, tags: kept };
  }

  private seriesFor(metric: string, kind: 'value' | 'corrected', ref: SeriesRef): Series {
    const cache = kind === 'value' ? (ref.values ??= new Map()) : (ref.corrected ??= new Map());
    const cached = cache.get(metric);
    if (cached) return cached;
    const key = `${metric}\u0000${kind}\u0000${ref.key}`;
    let s = this.series.get(key);
    if (!s) {
      s = { metric, kind, tags: ref.tags, hdr: new LatencyHistogram() };
      this.series.set(key, s);
    }
    cache.set(metric, s);
    return s;
  }

  /** Adds a series snapshot from another registry (a runner's): exact, counts and saturation add. */
  addSnapshot(s: HdrSnapshot): void {
    const h = decodeSnapshot(s.snapshot);
    try {
      this.seriesFor(s.metric, s.kind, this.buildRef(s.tags)).hdr.add(h, s.saturated);
    } finally {
      h.destroy();
    }
  }

  allSeries(): Series[] {
    return [...this.series.values()];
  }

  snapshots(): HdrSnapshot[] {
    return this.allSeries().map((s) => ({
      metric: s.metric,
      kind: s.kind,
      tags: s.tags,
      ...s.hdr.encode(),
    }));
  }

  trend(name: string): TrendSink | undefined {
    const m = this.metrics.get(name);
    return m && m.sink instanceof TrendSink ? m.sink : undefined;
  }
}

function matches(match: Array<[string, string]>, tags: Tags): boolean {
  for (const [k, v] of match) if (tags[k] !== v) return false;
  return true;
}

/** `status:200, method:GET` or `name:"a b"` → pairs (k6 trims spaces and accepts quoted values). */
export function parseSelector(selector: string, metricName: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of selector.split(',')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    if (colon <= 0) {
      throw new UsageError(`threshold submetric ${metricName}{${selector}}: expected tag:value pairs separated by commas`);
    }
    const key = part.slice(0, colon).trim();
    const value = part.slice(colon + 1).trim().replace(/^(['"])(.*)\1$/, '$2');
    pairs.push([key, value]);
  }
  return pairs;
}
