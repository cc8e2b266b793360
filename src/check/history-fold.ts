/**
 * A run-wide checker fed the history in parts of whole sessions (every entry of a session id,
 * ids ascending), each part once, then asked for its finding. What it keeps between parts is its
 * own small state, not the entries, so a history checked from disk (partitioned-check.ts) need
 * not hold a copy of every entry for it. Given the whole history as one part it is the checker;
 * its anomalies come out in the order of the history's ids whichever way the parts came.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { InvariantResult } from './types.ts';

export interface HistoryFold {
  add(part: readonly HistoryEntry[]): void;
  finish(): InvariantResult;
}

/** A fold over one history given whole. */
export function foldOver(fold: HistoryFold, history: readonly HistoryEntry[]): InvariantResult {
  fold.add(history);
  return fold.finish();
}
