/** `k6/metrics` for one VU: Counter, Gauge, Rate, Trend, sampled with the VU's current tags. */
import type { MetricType } from '../metrics/sinks.ts';
import type { VU } from '../vu.ts';
import { UnsupportedFeatureError } from './unsupported.ts';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

export function createMetrics(vu: VU) {
  const run = vu.run;
  const make = (type: MetricType) =>
    class {
      readonly name: string;
      private readonly metric;
      constructor(name: string, isTime = false) {
        if (!NAME.test(name)) throw new Error(`invalid metric name "${name}": letters, digits and _ only, not starting with a digit, up to 128`);
        this.name = name;
        this.metric = run.registry.define(name, type, isTime ? 'time' : 'default');
      }
      add(value: number | boolean, tags?: Record<string, string>): void {
        const v = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
        if (!Number.isFinite(v)) throw new Error(`${this.name}.add(${String(value)}): not a number`);
        if (type === 'trend' && v < 0) throw new UnsupportedFeatureError(`negative Trend values (${this.name}.add(${v}))`, 'HDR histograms hold non-negative values');
        const t = vu.sampleTags();
        if (tags) Object.assign(t, tags);
        run.registry.add(this.metric, v, t);
      }
    };
  return { Counter: make('counter'), Gauge: make('gauge'), Rate: make('rate'), Trend: make('trend') };
}
