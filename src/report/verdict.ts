/**
 * The three verdicts a run can have. PASS and FAIL are decided by the invariants and thresholds;
 * INTERRUPTED by a signal (SIGINT/SIGTERM) that cut the run short: what was judged over the
 * partial history is shown, marked partial, and decides nothing (exit 105, k6's code for it).
 */
import type { RunResult } from './result-schema.ts';

export type VerdictKind = 'pass' | 'fail' | 'interrupted';
export type Interruption = NonNullable<RunResult['verdict']['interrupted']>;

export const VERDICT_WORD: Record<VerdictKind, string> = { pass: 'PASS', fail: 'FAIL', interrupted: 'INTERRUPTED' };

export function verdictKind(v: RunResult['verdict']): VerdictKind {
  return v.interrupted ? 'interrupted' : v.pass ? 'pass' : 'fail';
}

/** "interrupted by SIGINT during the load, after 9 s of 40 s" */
export function interruptionText(i: Interruption): string {
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  const when = i.stage === 'load' ? `during the load, after ${secs(i.afterMs)}${i.plannedMs ? ` of ${secs(i.plannedMs)}` : ''}` : `after the load (${secs(i.afterMs)}), while the run was being checked`;
  return `interrupted by ${i.signal} ${when}`;
}

/** What "partial" means, said once wherever the invariants are listed. */
export const PARTIAL_NOTE = 'the invariants were judged over the partial history and witnesses; they inform, they do not decide the verdict';
