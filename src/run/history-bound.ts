/**
 * How many operations a run may record before the load is stopped, so that a backend answering
 * faster than any scenario expected ends the run with a partial verdict instead of running the
 * harness out of heap (V8's "heap out of memory" is a crash, not an answer).
 *
 * Measured (`npm run bench check`): a recorded entry costs about 600 B, and checking holds about
 * twice what recording did (1 M operations: 604 MB recorded, 1,154 MB peak; 3 M: 1,534 and 3,362 MB). The bound keeps
 * recorded × 3 under the heap limit this process runs with, so raising --max-old-space-size
 * (NODE_OPTIONS) raises it. STATEPROOF_MAX_HISTORY sets it outright.
 */
import v8 from 'node:v8';
import { UsageError } from '../base/errors.ts';

const BYTES_PER_ENTRY = 600;
const CHECK_FACTOR = 3;

export function historyBound(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.STATEPROOF_MAX_HISTORY;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`STATEPROOF_MAX_HISTORY must be a whole number of operations (at least 1), got '${given}'`);
    return n;
  }
  return Math.max(100_000, Math.floor(v8.getHeapStatistics().heap_size_limit / (BYTES_PER_ENTRY * CHECK_FACTOR)));
}

/** The reason a run stopped at its bound, as the verdict shows it ("interrupted by …"). */
export function historyBoundReason(bound: number): string {
  return `the history's memory bound (${bound.toLocaleString('en-US')} operations recorded; STATEPROOF_MAX_HISTORY or a larger --max-old-space-size raises it)`;
}
