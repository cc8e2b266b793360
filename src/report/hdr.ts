/**
 * HDR histogram helpers for reports. Histograms hold latency in MICROSECONDS (integers); everything
 * rendered is in milliseconds. Snapshots travel as hdr-histogram-js compressed base64 so runs and
 * runners merge exactly.
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { HdrSnapshot } from './result-schema.ts';

export type { Histogram };

/** One hour in microseconds: anything slower is a hang, and autoResize keeps it anyway. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;
export const SIGNIFICANT_DIGITS = 3;

export function newLatencyHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** Record a latency given in milliseconds (fractional); stored as whole microseconds, at least 1. */
export function recordMs(h: Histogram, latencyMs: number): void {
  h.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(base64: string): Histogram {
  return hdr.decodeFromCompressedBase64(base64, 64, false);
}

/** Merge snapshots exactly (the reason they are HDR and not summaries). */
export function mergeSnapshots(base64s: readonly string[]): Histogram {
  const out = newLatencyHistogram();
  for (const b of base64s) out.add(decodeHistogram(b));
  return out;
}

export interface LatencySummaryMs {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  p9999Ms: number;
  maxMs: number;
}

export function summarize(h: Histogram): LatencySummaryMs {
  const at = (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
  return {
    count: h.totalCount,
    meanMs: h.totalCount === 0 ? 0 : h.mean / 1000,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    p9999Ms: at(99.99),
    maxMs: h.totalCount === 0 ? 0 : h.maxValue / 1000,
  };
}

/** Find one snapshot by its coordinates. */
export function findSnapshot(
  list: readonly HdrSnapshot[],
  want: { op?: string; phase?: string; instance?: string; kind?: HdrSnapshot['kind'] },
): HdrSnapshot | undefined {
  const { op = 'all', phase = 'all', instance = 'all', kind = 'corrected' } = want;
  return list.find((s) => s.op === op && s.phase === phase && s.instance === instance && s.kind === kind);
}

/** Phases in display order: before, then during/after of each fault in plan order, then anything else. */
export function phaseOrder(phases: Iterable<string>, faultIds: readonly string[]): string[] {
  const rank = (p: string): number => {
    if (p === 'all') return -1;
    if (p === 'before') return 0;
    for (let i = 0; i < faultIds.length; i++) {
      if (p === `during-${faultIds[i]}`) return 1 + 2 * i;
      if (p === `after-${faultIds[i]}`) return 2 + 2 * i;
    }
    return 1e6;
  };
  return [...new Set(phases)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The phases a report shows: phaseOrder, without "before" when the run had no faults — there it
 * holds the same operations as "all", which every writer labels "whole run".
 */
export function shownPhases(phases: Iterable<string>, faultIds: readonly string[]): string[] {
  const ordered = phaseOrder(phases, faultIds);
  return faultIds.length === 0 ? ordered.filter((p) => p !== 'before') : ordered;
}
