/**
 * Which phase of the fault plan a moment belongs to: "before" the first fault, "during-<id>" while a
 * fault is applied, "after-<id>" once it is undone (until the next fault starts). Actual times are
 * used when the chaos runner recorded them, planned times otherwise.
 */
import type { TimelineEntry } from '../result-schema.ts';

export interface FaultWindow {
  id: string;
  startMs: number;
  endMs: number;
}

export function faultWindows(timeline: readonly TimelineEntry[]): FaultWindow[] {
  return timeline
    .map((t) => ({ id: t.id, startMs: t.actualStartMs ?? t.plannedStartMs, endMs: t.actualEndMs ?? t.plannedEndMs }))
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}

export function phaseAt(tMs: number, windows: readonly FaultWindow[]): string {
  let phase = 'before';
  for (const w of windows) {
    if (tMs >= w.startMs && tMs <= w.endMs) return `during-${w.id}`;
    if (tMs > w.endMs) phase = `after-${w.id}`;
  }
  return phase;
}
