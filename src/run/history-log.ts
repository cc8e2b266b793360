/**
 * The run's history as it is recorded: the seeded sessions first, then every operation the load
 * makes, each numbered as it arrives (ids are unique within a run and give the order of arrival).
 */
import type { HistoryEntry } from '../record/history.ts';

export interface HistoryLog {
  readonly entries: HistoryEntry[];
  /** Numbers the entry in place and keeps it: one object shape per entry keeps the checkers fast. */
  add(entry: HistoryEntry): void;
}

export function historyLog(): HistoryLog {
  const entries: HistoryEntry[] = [];
  let nextId = 1;
  return {
    entries,
    add(entry) {
      entry.id = nextId++;
      entries.push(entry);
    },
  };
}
