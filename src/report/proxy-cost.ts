/**
 * The fault proxy's cost in words, for every report, and when two runs' costs differ enough that
 * a latency difference between them may be the harness's rather than the backend's.
 */
import { fmtMs } from './format.ts';
import type { ProxyCostResult } from './result-schema.ts';

/** "The fault proxy (embedded) added p50 0.050 ms / p99 0.200 ms per store round trip (…)." */
export function proxyCostSentence(c: ProxyCostResult): string {
  return (
    `The fault proxy (${c.proxy}) added p50 ${fmtMs(c.addedMs.p50)} ms / p99 ${fmtMs(c.addedMs.p99)} ms per store round trip ` +
    `(${c.samples} ${c.probe ?? 'PING'} round trips each way at start, interleaved; through ${c.via.join(' → ')}: p50 ${fmtMs(c.proxiedMs.p50)} ms, p99 ${fmtMs(c.proxiedMs.p99)} ms; ` +
    `direct: p50 ${fmtMs(c.directMs.p50)} ms, p99 ${fmtMs(c.directMs.p99)} ms).`
  );
}

/** Differences in added latency below this are measurement noise of a 200-PING sample. */
export const PROXY_COST_FLOOR_MS = 0.05;

/**
 * Whether `other`'s proxy cost differs from `base`'s enough to matter: by more than `noisePct` of
 * the baseline run's own latency at that percentile (a store round trip is part of every request),
 * and by more than PROXY_COST_FLOOR_MS. Returns the sentence for the comparison's notes, or null.
 */
export function proxyCostDifference(
  base: ProxyCostResult | undefined,
  other: ProxyCostResult | undefined,
  baseLatencyMs: { p50: number; p99: number } | null,
  noisePct: number,
  labels: { base: string; other: string },
): string | null {
  if (!base || !other) return null;
  const matters = (pick: 'p50' | 'p99') => {
    const d = Math.abs(other.addedMs[pick] - base.addedMs[pick]);
    return d > PROXY_COST_FLOOR_MS && d > ((baseLatencyMs?.[pick] ?? 0) * noisePct) / 100;
  };
  const which = (['p50', 'p99'] as const).filter(matters);
  if (!which.length) return null;
  const fig = (c: ProxyCostResult) => which.map((p) => `${p} ${fmtMs(c.addedMs[p])} ms`).join(' / ');
  return (
    `${labels.other}: the fault proxy (${other.proxy}) added ${fig(other)} per store round trip, where in ${labels.base} (${base.proxy}) it added ${fig(base)}; ` +
    `latency differences of that order between these runs may be the harness's, not the backend's.`
  );
}
