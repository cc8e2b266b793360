/**
 * The run's history as it is recorded: the seeded sessions first, then every operation the load
 * makes, each numbered as it arrives (ids are unique within a run and give the order of arrival).
 *
 * Each entry is kept once, already in the checkers' one object shape and with its id-like
 * strings interned, so checking copies nothing: at ten thousand answers a second the history is
 * most of what the harness holds.
 */
import type { HistoryEntry } from '../record/history.ts';
import { spillingHistoryLog } from './history-spill.ts';

export interface HistoryLog {
  /** In arrival order; add() is the only way in (the checkers rely on every entry's shape). */
  readonly entries: readonly HistoryEntry[];
  /** Numbers the entry and keeps a normalized copy of it; the caller's object is not kept. */
  add(entry: HistoryEntry): void;
}

export interface HistoryLogOptions {
  /**
   * Told once when the log reaches this many entries. The log keeps taking entries after it (the
   * requests in flight and the final reads still land): the caller stops the load.
   */
  softLimit?: number;
  onSoftLimit?: () => void;
}

/** A log that never leaves memory: the spilling log (history-spill.ts) with nowhere to spill to. */
export function historyLog(opts: HistoryLogOptions = {}): HistoryLog {
  return spillingHistoryLog(opts);
}
