/**
 * How far a measured figure can move by sampling alone, from the counts behind it:
 *
 *   percentile   distribution-free interval from order statistics. With n samples, the number B
 *                of samples at or below the true q-quantile is Binomial(n, q), so
 *                P(X(a) ≤ ξq < X(b+1)) = P(a ≤ B ≤ b). The shortest [a, b] holding `confidence`
 *                of that binomial gives ranks whose values an HDR histogram reads back exactly
 *                (to its 3 significant digits). Too few samples and the upper rank falls past n:
 *                the interval is unbounded above and the percentile cannot be judged.
 *   proportion   Wilson score interval (an error rate from errors/requests).
 *
 * Only sampling noise: two runs on a busier machine differ by more than this, which is why compare
 * also asks for a practical difference (--noise-pct, --noise-floor-ms) before it calls one worse.
 */
import type { Histogram } from '../record/hdr.ts';

export const DEFAULT_CONFIDENCE = 0.99;

export interface Interval {
  low: number;
  /** null: unbounded above (too few samples to bound this percentile). */
  high: number | null;
}

/** 1-based ranks bounding the q-quantile (0 < q < 1); low 0 = unbounded below, high > n = unbounded above. */
export function quantileRanks(n: number, q: number, confidence = DEFAULT_CONFIDENCE): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const mode = Math.min(n, Math.floor((n + 1) * q));
  let a = mode;
  let b = mode;
  const pmfMode = Math.exp(logBinomialPmf(n, mode, q));
  let mass = pmfMode;
  // Walk outward from the mode, always taking the likelier neighbour: the shortest interval.
  let left = a > 0 ? pmfMode * (a / (n - a + 1)) * ((1 - q) / q) : 0;
  let right = b < n ? pmfMode * ((n - b) / (b + 1)) * (q / (1 - q)) : 0;
  for (let steps = 0; mass < confidence && steps <= n; steps++) {
    if (left === 0 && right === 0) break;
    if (right >= left) {
      mass += right;
      b++;
      right = b < n ? right * ((n - b) / (b + 1)) * (q / (1 - q)) : 0;
    } else {
      mass += left;
      a--;
      left = a > 0 ? left * (a / (n - a + 1)) * ((1 - q) / q) : 0;
    }
  }
  return { low: a, high: b + 1 };
}

/** The interval for a histogram's percentile p (0–100), in the histogram's own unit. */
export function percentileInterval(h: Histogram, p: number, confidence = DEFAULT_CONFIDENCE): Interval {
  const n = h.totalCount;
  const { low, high } = quantileRanks(n, p / 100, confidence);
  // getValueAtPercentile(100·r/n) reads the value of rank r (it rounds the count up to r).
  const at = (rank: number) => h.getValueAtPercentile((100 * rank) / n);
  return { low: low >= 1 ? at(low) : 0, high: high <= n ? at(high) : null };
}

/** The fewest samples for which percentile p has a bounded interval (for "needs ≥ N samples"). */
export function samplesToBound(p: number, confidence = DEFAULT_CONFIDENCE): number {
  const q = p / 100;
  let lo = 1;
  let hi = 2;
  while (quantileRanks(hi, q, confidence).high > hi && hi < 1e9) hi *= 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (quantileRanks(mid, q, confidence).high > mid) lo = mid + 1;
    else hi = mid;
  }
  return hi;
}

/** Wilson score interval for k successes in n trials. */
export function proportionInterval(k: number, n: number, confidence = DEFAULT_CONFIDENCE): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

function logBinomialPmf(n: number, k: number, q: number): number {
  const logQ = k === 0 ? 0 : k * Math.log(q);
  const log1Q = n - k === 0 ? 0 : (n - k) * Math.log1p(-q);
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + logQ + log1Q;
}

// Lanczos approximation (g = 7, n = 9): about 15 significant digits for x ≥ 0.5.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function logGamma(x: number): number {
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lowP) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
