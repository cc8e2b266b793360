/**
 * HDR histograms as the engine keeps them: integer MICROSECONDS, 3 significant digits, auto-resizing
 * so one histogram covers 1 µs to hours without a fixed upper bound. Exported as compressed base64
 * snapshots, which merge exactly (the merged histogram equals the one a single run would have made).
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Bounds declared once for every histogram the engine makes. */
export const HDR_BOUNDS = Object.freeze({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000, // 60 s in µs; autoResize grows it when a longer value arrives
  numberOfSignificantValueDigits: 3 as const,
});

export function newHistogram(): Histogram {
  return hdr.build({ ...HDR_BOUNDS, bitBucketSize: 32, autoResize: true, useWebAssembly: false });
}

export const msToUs = (ms: number): number => (ms <= 0 ? 0 : Math.round(ms * 1000));

export function encodeSnapshot(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeSnapshot(base64: string): Histogram {
  const h = hdr.decodeFromCompressedBase64(base64, 32, false);
  h.autoResize = true;
  return h;
}

/** Merges any number of compressed snapshots into one histogram (exact: counts add bucket by bucket). */
export function mergeSnapshots(snapshots: Iterable<string>): Histogram {
  const total = newHistogram();
  for (const s of snapshots) {
    const h = decodeSnapshot(s);
    total.add(h);
    h.destroy();
  }
  return total;
}

export interface PercentilesMs {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  p9999Ms: number;
  maxMs: number;
}

/** The spectrum reports quote, in milliseconds (histograms hold µs). */
export function percentilesMs(h: Histogram): PercentilesMs {
  const at = (p: number) => h.getValueAtPercentile(p) / 1000;
  return {
    count: h.totalCount,
    minMs: h.totalCount ? h.minNonZeroValue / 1000 : 0,
    meanMs: h.mean / 1000,
    p50Ms: at(50),
    p90Ms: at(90),
    p95Ms: at(95),
    p99Ms: at(99),
    p999Ms: at(99.9),
    p9999Ms: at(99.99),
    maxMs: h.maxValue / 1000,
  };
}
