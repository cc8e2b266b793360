/**
 * What each k6 metric type keeps: constant memory per metric (a histogram for trends, a few numbers
 * for the rest), never a sample array, so a soak of any length stays flat.
 */
import { LatencyHistogram, msToUs } from '../../record/hdr.ts';

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type Contains = 'default' | 'time' | 'data';

export class TrendSink {
  /** Any trend's values ×1000, as µs: one over 3.6e6 of its unit (an hour, for time) saturates, counted in hdr.saturated. */
  readonly hdr = new LatencyHistogram();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.hdr.recordUs(msToUs(value));
  }
  /** k6's p(N) for N in 0..100, in the metric's own unit (ms for time trends). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    if (p <= 0) return this.min;
    return Math.min(this.max, Math.max(this.min, this.hdr.histogram.getValueAtPercentile(p) / 1000));
  }
  values(stats: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of stats) {
      const v = this.stat(s);
      if (v !== undefined) out[s] = v;
    }
    return out;
  }
  stat(name: string): number | undefined {
    switch (name) {
      case 'avg':
        return this.count ? this.sum / this.count : 0;
      case 'min':
        return this.count ? this.min : 0;
      case 'max':
        return this.count ? this.max : 0;
      case 'med':
        return this.percentile(50);
      case 'count':
        return this.count;
    }
    const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(name);
    return m ? this.percentile(Number(m[1])) : undefined;
  }
}

export class CounterSink {
  count = 0;
  add(value: number): void {
    this.count += value;
  }
  values(durationMs: number): Record<string, number> {
    return { count: this.count, rate: durationMs > 0 ? this.count / (durationMs / 1000) : 0 };
  }
}

export class RateSink {
  passes = 0;
  total = 0;
  add(value: number): void {
    this.total++;
    if (value !== 0) this.passes++;
  }
  get rate(): number {
    return this.total ? this.passes / this.total : 0;
  }
  values(): Record<string, number> {
    return { rate: this.rate, passes: this.passes, fails: this.total - this.passes };
  }
}

export class GaugeSink {
  value = 0;
  min = Infinity;
  max = -Infinity;
  seen = false;
  add(value: number): void {
    this.seen = true;
    this.value = value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
  values(): Record<string, number> {
    return this.seen ? { value: this.value, min: this.min, max: this.max } : { value: 0, min: 0, max: 0 };
  }
}

export type Sink = TrendSink | CounterSink | RateSink | GaugeSink;

export function newSink(type: MetricType): Sink {
  switch (type) {
    case 'trend':
      return new TrendSink();
    case 'counter':
      return new CounterSink();
    case 'rate':
      return new RateSink();
    case 'gauge':
      return new GaugeSink();
  }
}
