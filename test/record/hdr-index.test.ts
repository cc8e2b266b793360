/**
 * stateproof's histograms compute a value's counts-array index with bit operations instead of
 * hdr-histogram-js's log2/pow (src/record/hdr.ts; the engine records about seven samples per
 * request). These check that index for index and snapshot for snapshot the result is the library's own.
 */
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { newHistogram, withFastIndex, HDR_BOUNDS, HIGHEST_TRACKABLE_US, LatencyHistogram } from '../../src/record/hdr.ts';

type Indexed = { countsArrayIndex(v: number): number };
const plain = () => hdr.build({ ...HDR_BOUNDS, bitBucketSize: 64, autoResize: false, useWebAssembly: false });

function values(): number[] {
  const out: number[] = [];
  for (let v = 0; v <= 70_000; v++) out.push(v);
  for (let k = 1; k < 40; k++) for (const d of [-2, -1, 0, 1, 2]) out.push(2 ** k + d);
  for (const d of [-2, -1, 0, 1, 2]) out.push(HIGHEST_TRACKABLE_US + d);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 50_000; i++) out.push(Math.floor(rnd() ** 3 * 2 ** 36));
  for (let i = 0; i < 2_000; i++) out.push(rnd() * 10_000); // fractional values too
  return out.filter((v) => v >= 0);
}

describe('fast HDR index', () => {
  it('is installed on the engine histograms', () => {
    expect(Object.prototype.hasOwnProperty.call(newHistogram(), 'countsArrayIndex')).toBe(true);
  });

  it('gives the library index for every value, small, at powers of two, large and fractional', () => {
    const fast = newHistogram() as unknown as Indexed;
    const lib = plain() as unknown as Indexed;
    const mismatches: number[] = [];
    for (const v of values()) if (fast.countsArrayIndex(v) !== lib.countsArrayIndex(v)) mismatches.push(v);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('records the same histogram as the library over the whole range, up to one hour', () => {
    const a = new LatencyHistogram();
    const b = plain();
    for (const v of values()) {
      const us = Math.round(v);
      if (us > HIGHEST_TRACKABLE_US) continue;
      a.recordUs(us);
      b.recordValue(us);
    }
    expect(a.saturated).toBe(0);
    expect(a.histogram.maxValue).toBe(HIGHEST_TRACKABLE_US);
    expect(a.count).toBe(b.totalCount);
    expect(a.histogram.maxValue).toBe(b.maxValue);
    for (const p of [50, 90, 99, 99.9, 99.99, 100]) expect(a.histogram.getValueAtPercentile(p)).toBe(b.getValueAtPercentile(p));
    expect(a.encode().snapshot).toBe(hdr.encodeIntoCompressedBase64(b));
  });

  it('still rejects a negative value as the library does', () => {
    expect(() => newHistogram().recordValue(-1)).toThrow(/negative/);
  });

  it('leaves a histogram it does not recognise alone', () => {
    const odd = { recordValue() {} } as unknown as hdr.Histogram;
    expect(withFastIndex(odd)).toBe(odd);
    expect(Object.prototype.hasOwnProperty.call(odd, 'countsArrayIndex')).toBe(false);
  });
});
