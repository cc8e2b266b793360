/**
 * What the errors of a run were, in words a reader can act on: how many were 503 refusals (the
 * contract's "could not make it durable"), where they fell, and whether the fault plan makes them
 * expected. Refusals keep their outcome (a refused write is unknown: the store may have applied it
 * after the service gave up waiting); these helpers only say so.
 */
import type { RunResult } from '../result-schema.ts';
import { faultWindows } from './phases.ts';

/** One phrase used wherever a 503 count is shown, so every writer says the same thing. */
export const REFUSED_MEANING = 'refused (503): not made durable, may or may not have applied';

export function refusedTotal(r: Pick<RunResult, 'metrics'>): number {
  return r.metrics.byStatus['503'] ?? 0;
}

export function errorCount(r: Pick<RunResult, 'metrics'>): number {
  return r.metrics.totals.fail + r.metrics.totals.unknown;
}

/**
 * 503s intended inside fault windows, when that is exact: per-fault counts add up only if no two
 * windows overlap (an operation in two windows would be counted twice). Null otherwise, or when the
 * result predates per-fault refusal counts.
 */
export function refusedInFaultWindows(r: Pick<RunResult, 'faults' | 'timeline'>): number | null {
  if (r.faults.length === 0 || r.faults.some((f) => f.refused === undefined)) return null;
  const windows = faultWindows(r.timeline);
  for (let i = 1; i < windows.length; i++) if (windows[i]!.startMs <= windows[i - 1]!.endMs) return null;
  return r.faults.reduce((a, f) => a + (f.refused ?? 0), 0);
}

/**
 * The note under the headline error rate, e.g. "expected under faults: 120 refused as 503 during
 * fault windows, 14 with no answer or another error". Empty when there were no errors.
 */
export function errorRateNote(r: Pick<RunResult, 'metrics' | 'faults' | 'timeline' | 'verdict'>): string {
  const errors = errorCount(r);
  if (errors === 0) return '';
  const refused = refusedTotal(r);
  const parts: string[] = [];
  if (refused > 0) {
    const inWindows = refusedInFaultWindows(r);
    const where = inWindows === null ? '' : inWindows === refused ? ' during fault windows' : ` (${inWindows} during fault windows)`;
    parts.push(`${refused} refused as 503${where}`);
  }
  const other = Math.max(0, errors - refused);
  if (other > 0) parts.push(`${other} with no answer or another error`);
  // Only a passing run with faults can call its errors expected: the invariants judged them harmless.
  const lead = r.verdict.pass && r.timeline.length > 0 ? 'expected under faults: ' : '';
  return `${lead}${parts.join(', ')}`;
}
