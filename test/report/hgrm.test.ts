import { describe, expect, it } from 'vitest';
import { decodeSnapshot, LatencyHistogram, latencyUs } from '../../src/record/hdr.ts';
import { histogramFromHgrm, parseHgrm, toHgrm } from '../../src/report/hgrm.ts';
import { rng } from './fixture.ts';

function filled(seed: number, n: number) {
  const rand = rng(seed);
  const h = new LatencyHistogram();
  for (let i = 0; i < n; i++) h.recordUs(latencyUs(0.2 + -Math.log(1 - rand()) * 7 + (rand() < 0.01 ? 300 * rand() : 0)));
  return h;
}

describe('.hgrm output', () => {
  it("has HdrHistogram's header, row and footer layout", () => {
    const text = toHgrm(filled(1, 10_000).histogram);
    const lines = text.split('\n');
    expect(lines[0]).toBe('       Value     Percentile TotalCount 1/(1-Percentile)');
    expect(lines[1]).toBe('');
    // %12.3f %2.12f %10d %14.2f
    expect(lines[2]).toMatch(/^ +\d+\.\d{3} \d\.\d{12} +\d+ +\d+\.\d{2}$/);
    expect(lines[2]!.length).toBe(12 + 1 + 14 + 1 + 10 + 1 + 14);
    const footer = lines.filter((l) => l.startsWith('#['));
    expect(footer).toHaveLength(3);
    expect(footer[0]).toMatch(/^#\[Mean    = +\d+\.\d{3}, StdDeviation   = +\d+\.\d{3}\]$/);
    expect(footer[1]).toMatch(/^#\[Max     = +\d+\.\d{3}, Total count    = +10000\]$/);
    expect(footer[2]).toMatch(/^#\[Buckets = +\d+, SubBuckets     = +2048\]$/);
    // The 100th percentile row has no 1/(1-p) column.
    const last = lines.filter((l) => /^\s+\d/.test(l)).at(-1)!;
    expect(last).toMatch(/1\.000000000000 +10000$/);
  });

  it('parses back into a histogram with the same percentiles', () => {
    const original = decodeSnapshot(filled(7, 25_000).encode().snapshot);
    const text = toHgrm(original);
    const parsed = parseHgrm(text);
    expect(parsed.totalCount).toBe(25_000);
    expect(parsed.rows.length).toBeGreaterThan(50);
    const back = histogramFromHgrm(text);
    expect(back.totalCount).toBe(original.totalCount);
    for (const row of parsed.rows) {
      if (row.percentile === 0) continue; // percentile 0 reads the bucket's lowest value, not the printed upper bound
      expect(back.getValueAtPercentile(row.percentile * 100) / 1000).toBe(row.valueMs);
      expect(original.getValueAtPercentile(row.percentile * 100) / 1000).toBe(row.valueMs);
    }
    // Rendering the rebuilt histogram gives the same rows.
    expect(parseHgrm(toHgrm(back)).rows).toEqual(parsed.rows);
    expect(parsed.maxMs).toBeCloseTo(original.maxValue / 1000, 0);
  });

  it('refuses text that is not an .hgrm', () => {
    expect(() => parseHgrm('hello\n1 2 3')).toThrow(/not an \.hgrm/);
  });
});
