/**
 * HDR latency histograms, declared once for everything that records, ships or merges latency: the
 * engine's trend sinks and series, the histograms reports derive from a history, and the benches.
 *
 * Values are integer MICROSECONDS, 1 µs .. 1 h, 3 significant digits, 64-bit counts. The range is
 * fixed (no auto-resize), so every histogram has the same counts array and a merge is an exact
 * bucket-by-bucket sum. A value above 1 h is recorded AS 1 h and counted in `saturated`; the count
 * travels with every encoded snapshot and adds up in a merge, so nothing past the top is dropped or
 * hidden.
 *
 *   recordUs(us) ─> LatencyHistogram {histogram, saturated} ─encode()─> {count, saturated, snapshot}
 *                                                                           │ (base64, compressed)
 *   mergeSnapshots([...]) <──────────────── any number, from any producer ──┘
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** One hour in µs: slower than this is a hang, and it still fits the fast index below (< 2^32). */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

/** The bounds of every histogram stateproof makes. */
export const HDR_BOUNDS = Object.freeze({
  lowestDiscernibleValue: 1,
  highestTrackableValue: HIGHEST_TRACKABLE_US,
  numberOfSignificantValueDigits: 3 as const,
});

/**
 * 64-bit (Float64Array) counts: exact to 2^53. With 32-bit counts a bucket past 2^31 (a long soak
 * merged across runners) wraps to negative without an error.
 */
const BIT_BUCKET_SIZE = 64;

/** The library histogram with stateproof's bounds (no saturation counter: use LatencyHistogram to record). */
export function newHistogram(): Histogram {
  return withFastIndex(hdr.build({ ...HDR_BOUNDS, bitBucketSize: BIT_BUCKET_SIZE, autoResize: false, useWebAssembly: false }));
}

/**
 * The highest value the top bucket holds: a clamped 1 h reads back (decoded, iterated) as this, since
 * at 3 significant digits every value of a bucket is equivalent.
 */
const TOP_US = (newHistogram() as hdr.JsHistogram).highestEquivalentValue(HIGHEST_TRACKABLE_US);

/** A compressed snapshot as it travels (engine results, result.json): counts beside the base64. */
export interface EncodedHistogram {
  count: number;
  /** Values recorded above HIGHEST_TRACKABLE_US (each one is in the histogram as exactly that value). */
  saturated: number;
  /** hdr-histogram-js encodeIntoCompressedBase64, values in microseconds. */
  snapshot: string;
}

export class LatencyHistogram {
  constructor(
    readonly histogram: Histogram = newHistogram(),
    public saturated = 0,
  ) {}

  get count(): number {
    return this.histogram.totalCount;
  }

  recordUs(us: number): void {
    if (us > HIGHEST_TRACKABLE_US) {
      this.saturated++;
      us = HIGHEST_TRACKABLE_US;
    }
    this.histogram.recordValue(us);
  }

  recordUsWithCount(us: number, count: number): void {
    if (us > HIGHEST_TRACKABLE_US) {
      this.saturated += count;
      us = HIGHEST_TRACKABLE_US;
    }
    this.histogram.recordValueWithCount(us, count);
  }

  /**
   * Adds another histogram exactly. One decoded from a snapshot made with a wider range (an older,
   * auto-resized stateproof) has its values above the top folded in as saturated.
   */
  add(other: Histogram, otherSaturated = 0): void {
    this.saturated += otherSaturated;
    if (other.maxValue <= TOP_US) {
      this.histogram.add(other);
      return;
    }
    if (!(other instanceof hdr.JsHistogram)) throw new Error('LatencyHistogram.add: expected a JsHistogram (WebAssembly histograms are not used)');
    const it = other.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      if (v.valueIteratedTo > TOP_US) {
        this.saturated += v.countAtValueIteratedTo;
        this.histogram.recordValueWithCount(HIGHEST_TRACKABLE_US, v.countAtValueIteratedTo);
      } else this.histogram.recordValueWithCount(v.valueIteratedTo, v.countAtValueIteratedTo);
    }
  }

  encode(): EncodedHistogram {
    return { count: this.histogram.totalCount, saturated: this.saturated, snapshot: hdr.encodeIntoCompressedBase64(this.histogram) };
  }
}

/** Reads a snapshot's histogram (for percentiles, .hgrm); its `saturated` count is on the snapshot itself. */
export function decodeSnapshot(base64: string): Histogram {
  return hdr.decodeFromCompressedBase64(base64, BIT_BUCKET_SIZE, false);
}

/** Merges any number of snapshots, from any producer, into one (exact: counts and saturation add). */
export function mergeSnapshots(snapshots: Iterable<Pick<EncodedHistogram, 'snapshot' | 'saturated'>>): LatencyHistogram {
  const total = new LatencyHistogram();
  for (const s of snapshots) {
    const h = decodeSnapshot(s.snapshot);
    total.add(h, s.saturated);
    h.destroy();
  }
  return total;
}

/** k6 sample values (ms) as µs. 0 stays 0: a reused connection's blocked time truly is 0. */
export const msToUs = (ms: number): number => (ms <= 0 ? 0 : Math.round(ms * 1000));

/**
 * A measured request's latency (ms) as µs, at least 1: a 0 ms difference of millisecond clocks
 * means "under a millisecond", not "no time".
 */
export const latencyUs = (ms: number): number => Math.max(1, Math.round(ms * 1000));

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

/** The spectrum reports quote, in milliseconds (histograms hold µs); all 0 for an empty histogram. */
export function percentilesMs(h: Histogram): PercentilesMs {
  const empty = h.totalCount === 0;
  const at = (p: number) => (empty ? 0 : h.getValueAtPercentile(p) / 1000);
  return {
    count: h.totalCount,
    minMs: empty ? 0 : h.minNonZeroValue / 1000,
    meanMs: empty ? 0 : h.mean / 1000,
    p50Ms: at(50),
    p90Ms: at(90),
    p95Ms: at(95),
    p99Ms: at(99),
    p999Ms: at(99.9),
    p9999Ms: at(99.99),
    maxMs: empty ? 0 : h.maxValue / 1000,
  };
}

/** The fields of hdr-histogram-js's JsHistogram that place a value in its counts array. */
interface IndexFields {
  countsArrayIndex(value: number): number;
  readonly subBucketHalfCountMagnitude: number;
  readonly unitMagnitude: number;
  readonly subBucketHalfCount: number;
}

/** clz32 and >>> read a value as uint32, so the bit path holds below 2^32 (71 minutes in µs). */
const FAST_INDEX_LIMIT = 2 ** 32;

/**
 * JsHistogram finds a value's bucket with Math.log2, Math.pow and division, several times per
 * recorded sample; the engine records about seven samples per request. For values below 2^32 (all
 * of the range, since recordUs clamps at one hour) the same index is two bit operations; anything
 * else takes the library's own path. test/record/hdr-index.test.ts checks the two agree value for value.
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
