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
  return withFastIndex(hdr.build({ ...HDR_BOUNDS, bitBucketSize: 32, autoResize: true, useWebAssembly: false }));
}

/** The fields of hdr-histogram-js's JsHistogram that place a value in its counts array. */
interface IndexFields {
  countsArrayIndex(value: number): number;
  readonly subBucketHalfCountMagnitude: number;
  readonly unitMagnitude: number;
  readonly subBucketHalfCount: number;
}

const FAST_INDEX_LIMIT = 2 ** 31;

/**
 * JsHistogram finds a value's bucket with Math.log2, Math.pow and division, several times per
 * recorded sample; the engine records about seven samples per request. For integers below 2^31
 * (35 minutes in µs) the same index is two bit operations; anything else takes the library's own
 * path. test/engine/hdr-index.test.ts checks the two agree value for value.
 */
function fastCountsArrayIndex(this: IndexFields, value: number): number {
  if (value >= 0 && value < FAST_INDEX_LIMIT) {
    const bucket = Math.max(31 - Math.clz32(value) - this.subBucketHalfCountMagnitude - this.unitMagnitude, 0);
    return ((bucket + 1) << this.subBucketHalfCountMagnitude) + (value >>> (bucket + this.unitMagnitude)) - this.subBucketHalfCount;
  }
  return (Object.getPrototypeOf(this) as IndexFields).countsArrayIndex.call(this, value);
}

/** Installs fastCountsArrayIndex on one histogram, if it is the JsHistogram this was written against. */
export function withFastIndex(h: Histogram): Histogram {
  const f = h as unknown as IndexFields;
  const known =
    typeof f.countsArrayIndex === 'function' && Number.isInteger(f.subBucketHalfCountMagnitude) && Number.isInteger(f.unitMagnitude) && Number.isInteger(f.subBucketHalfCount);
  if (known) Object.defineProperty(h, 'countsArrayIndex', { value: fastCountsArrayIndex, writable: true, configurable: true });
  return h;
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
