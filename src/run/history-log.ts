/**
 * The run's history as it is recorded: the seeded sessions first, then every operation the load
 * makes, each numbered as it arrives (ids are unique within a run and give the order of arrival).
 *
 * Each entry is kept once, already in the checkers' one object shape and with its id-like
 * strings interned, so checking copies nothing: at ten thousand answers a second the history is
 * most of what the harness holds.
 */
import { markNormalized, normalizeEntry } from '../check/sessions.ts';
import type { HistoryEntry } from '../record/history.ts';

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

export function historyLog(opts: HistoryLogOptions = {}): HistoryLog {
  const entries: HistoryEntry[] = [];
  const limit = opts.softLimit ?? Infinity;
  let told = false;
  const intern = interner();
  let nextId = 1;
  return {
    entries: markNormalized(entries),
    add(entry) {
      entry.id = nextId++;
      entries.push(normalizeEntry(entry, intern));
      if (!told && entries.length >= limit) {
        told = true;
        opts.onSoftLimit?.();
      }
    },
  };
}

/** Maps each string to the first copy of it seen, so equal ids share one string in memory. */
export function interner(): (s: string) => string {
  const strings = new Map<string, string>();
  return (s) => {
    const had = strings.get(s);
    if (had !== undefined) return had;
    strings.set(s, s);
    return s;
  };
}
