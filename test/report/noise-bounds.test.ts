import { describe, expect, it } from 'vitest';
import { newHistogram as newLatencyHistogram } from '../../src/record/hdr.ts';
import { percentileInterval, proportionInterval, quantileRanks, samplesToBound } from '../../src/report/noise-bounds.ts';
import { rng } from './fixture.ts';

/** P(a ≤ B ≤ b) for B ~ Binomial(n, q), summed term by term in log space. */
function binomialMass(n: number, q: number, a: number, b: number): number {
  const lf = [0];
  for (let i = 1; i <= n; i++) lf[i] = lf[i - 1]! + Math.log(i);
  let s = 0;
  for (let k = a; k <= b; k++) s += Math.exp(lf[n]! - lf[k]! - lf[n - k]! + k * Math.log(q) + (n - k) * Math.log1p(-q));
  return s;
}

describe('noise bounds', () => {
  it('order-statistic ranks hold at least the asked confidence of the binomial', () => {
    for (const [n, q] of [[1000, 0.99], [530, 0.99], [500, 0.5], [5000, 0.9], [20_000, 0.999]] as const) {
      const { low, high } = quantileRanks(n, q, 0.99);
      expect(low).toBeGreaterThanOrEqual(1);
      expect(high).toBeLessThanOrEqual(n);
      expect(binomialMass(n, q, low, high - 1), `${n} ${q}`).toBeGreaterThanOrEqual(0.99);
      // Shortest: dropping either end falls below the confidence.
      expect(Math.max(binomialMass(n, q, low + 1, high - 1), binomialMass(n, q, low, high - 2))).toBeLessThan(0.99);
    }
  });

  it('is unbounded above when there are too few samples, and names how many it takes', () => {
    expect(quantileRanks(100, 0.99).high).toBeGreaterThan(100);
    const need = samplesToBound(99);
    expect(quantileRanks(need, 0.99).high).toBeLessThanOrEqual(need);
    expect(quantileRanks(need - 1, 0.99).high).toBeGreaterThan(need - 1);
  });

  it('covers the true p99 of a known distribution about 99 times in 100 (seeded, 400 trials)', () => {
    const rand = rng(5);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const h = newLatencyHistogram();
      // Exponential with mean 10 ms, in µs: true p99 = 10 ms × ln(100).
      for (let i = 0; i < 2000; i++) h.recordValue(Math.max(1, Math.round(-10_000 * Math.log(1 - rand()))));
      const { low, high } = percentileInterval(h, 99);
      const truth = 10_000 * Math.log(100);
      // HDR keeps 3 significant digits: allow its 0.1 % bucket width.
      if (low <= truth * 1.001 && high !== null && truth * 0.999 <= high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.96);
  });

  it('gives the Wilson interval for an error rate', () => {
    const i = proportionInterval(10, 1000, 0.95);
    expect(i.low).toBeCloseTo(0.00543, 4);
    expect(i.high).toBeCloseTo(0.01831, 4);
    expect(proportionInterval(0, 50).low).toBe(0);
  });
});
