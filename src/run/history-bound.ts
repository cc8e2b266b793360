/**
 * How many operations a run may record before the load is stopped, so that a backend answering
 * faster than any scenario expected ends the run with a partial verdict instead of running the
 * harness out of heap (V8's "heap out of memory" is a crash, not an answer).
 *
 * Measured (`npm run bench check`, and heap after a forced GC over a seeded 1 M history):
 *   - in memory, a recorded entry costs about 390 B, its audit records about 90 B, and checking
 *     the whole history holds about twice what recording did (1 M operations: 605 MB recorded,
 *     1,153 MB peak): 600 B × 3 per operation;
 *   - spilled to disk (history-spill.ts, past STATEPROOF_SPILL_AFTER), the check holds one
 *     partition at a time; what stays is the slim copy of every entry the run-wide invariants and
 *     the reports read (about 295 B) and the audit trail (about 90 B): 400 B × 1.5 per operation.
 * The bound keeps that under the heap limit this process runs with, so raising
 * --max-old-space-size (NODE_OPTIONS) raises it. STATEPROOF_MAX_HISTORY sets it outright.
 */
import v8 from 'node:v8';
import { UsageError } from '../base/errors.ts';

const IN_MEMORY_BYTES = 600 * 3;
const SPILLED_BYTES = 400 * 1.5;
const FLOOR = 100_000;

/** `spillAfter`: where the run's history moves to disk (spillThreshold()); absent, it never does. */
export function historyBound(env: NodeJS.ProcessEnv = process.env, spillAfter?: number): number {
  const given = env.STATEPROOF_MAX_HISTORY;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`STATEPROOF_MAX_HISTORY must be a whole number of operations (at least 1), got '${given}'`);
    return n;
  }
  const heap = v8.getHeapStatistics().heap_size_limit;
  const inMemory = Math.floor(heap / IN_MEMORY_BYTES);
  // A history that spills before the in-memory bound is checked partition by partition: only the slim copy and the audit grow with it.
  const bound = spillAfter !== undefined && spillAfter < inMemory ? Math.floor(heap / SPILLED_BYTES) : inMemory;
  return Math.max(FLOOR, bound);
}

/** The reason a run stopped at its bound, as the verdict shows it ("interrupted by …"). */
export function historyBoundReason(bound: number): string {
  return `the history's memory bound (${bound.toLocaleString('en-US')} operations recorded; STATEPROOF_MAX_HISTORY or a larger --max-old-space-size raises it)`;
}
