/**
 * How reports pick latency snapshots out of a result: by coordinates, and phases in display order.
 * The histograms themselves (bounds, recording, encode/decode, merge) are src/record/hdr.ts.
 */
import type { HdrSnapshot } from './result-schema.ts';

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
