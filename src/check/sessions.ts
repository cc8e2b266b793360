/**
 * Indexes a history by session, the one pass every checker shares.
 *
 *   history ──group by tenant/session──▶ sessions ──split at deletes and TTL gaps──▶ epochs
 *
 * A session's list restarts at a delete (or when it expired), so order-based checks compare
 * operations of one epoch only. Operations that overlap a delete could belong to either side and
 * are left out of those checks (they are kept in `ambiguous`). Deletes that timed out count as
 * boundaries too: they may have happened.
 */
import type { Consistency, HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';

export interface SessionIndex {
  key: string;
  /** Every entry of the session, sorted by startMs then id. */
  entries: HistoryEntry[];
  epochs: HistoryEntry[][];
  ambiguous: HistoryEntry[];
}

export function sessionKey(e: Pick<HistoryEntry, 'tenant' | 'session'>): string {
  return e.tenant ? `${e.tenant}/${e.session}` : e.session;
}

export function byStart(a: HistoryEntry, b: HistoryEntry): number {
  return a.startMs - b.startMs || a.id - b.id;
}

/** Arrays that hold only normalizeEntry's output (a recorder's log), which normalizeHistory need not copy. */
const NORMALIZED = new WeakSet<readonly HistoryEntry[]>();

/**
 * Copies entries into one fixed object shape. Histories built with spreads and optional fields
 * arrive as many hidden classes, and V8 then reads every field an order of magnitude slower;
 * one copy up front keeps every checker's pass fast. A history already in that shape (see
 * markNormalized) is returned as it is: at millions of entries a second copy is the largest
 * thing the check holds.
 */
export function normalizeHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  if (NORMALIZED.has(history)) return history as HistoryEntry[];
  return history.map((e) => normalizeEntry(e));
}

/**
 * Vouches that `entries` holds only normalizeEntry's output, now and whenever it is read: the
 * caller adds nothing else to it.
 */
export function markNormalized<T extends readonly HistoryEntry[]>(entries: T): T {
  NORMALIZED.add(entries);
  return entries;
}

/** Maps each string to the first copy of it seen, so equal ids share one string in memory (normalizeEntry's `intern`). */
export function interner(): (s: string) => string {
  const strings = new Map<string, string>();
  return (s) => {
    const had = strings.get(s);
    if (had !== undefined) return had;
    strings.set(s, s);
    return s;
  };
}

/**
 * One entry in the fixed shape. `intern` maps each id-like string to one shared copy: the turn ids
 * in a read's window arrive as strings of their own (JSON.parse), and at ten per read they would
 * outweigh the entries that carry them.
 */
export function normalizeEntry(e: HistoryEntry, intern?: (s: string) => string): HistoryEntry {
  const i = intern ?? ((x: string) => x);
  const ids = e.turnIds;
  if (ids && intern) for (let k = 0; k < ids.length; k++) ids[k] = intern(ids[k]!);
  return {
    id: e.id,
    vu: e.vu,
    op: e.op,
    session: i(e.session),
    tenant: e.tenant === undefined ? undefined : i(e.tenant),
    turnId: e.turnId === undefined ? undefined : i(e.turnId),
    ifMatch: e.ifMatch,
    consistency: e.consistency,
    intendedStartMs: e.intendedStartMs,
    startMs: e.startMs,
    endMs: e.endMs,
    outcome: e.outcome,
    status: e.status,
    code: e.code === undefined ? undefined : i(e.code),
    revision: e.revision,
    turnCount: e.turnCount,
    turnIds: ids,
    applied: e.applied,
    mode: e.mode,
    bodyMode: e.bodyMode,
    schemaVersion: e.schemaVersion,
    instance: e.instance === undefined ? undefined : i(e.instance),
    bytes: e.bytes,
    summary: e.summary,
    phase: e.phase === undefined ? undefined : i(e.phase),
  };
}

export function indexSessions(history: readonly HistoryEntry[], opts: ResolvedOptions): SessionIndex[] {
  const groups = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    const k = sessionKey(e);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const out: SessionIndex[] = [];
  for (const [key, entries] of groups) {
    entries.sort(byStart);
    out.push({ key, entries, ...splitEpochs(entries, opts.sessionTtlMs) });
  }
  return out;
}

function splitEpochs(sorted: HistoryEntry[], ttlMs: number | undefined): { epochs: HistoryEntry[][]; ambiguous: HistoryEntry[] } {
  const deletes = sorted.filter((e) => e.op === 'delete' && e.outcome !== 'fail');
  const ambiguous: HistoryEntry[] = [];
  const byEpoch = new Map<number, HistoryEntry[]>();
  // deletes are sorted by start; prefix max of their ends answers "does any delete that started
  // before this op ended reach past this op's start" in O(log d).
  const starts = deletes.map((d) => d.startMs);
  const endsSorted = deletes.map((d) => d.endMs).sort((a, b) => a - b);
  const prefixMaxEnd: number[] = [];
  for (let i = 0, m = -Infinity; i < deletes.length; i++) prefixMaxEnd.push((m = Math.max(m, deletes[i]!.endMs)));
  for (const e of sorted) {
    if (e.op === 'delete') continue;
    const startedBefore = upperBound(starts, e.endMs);
    if (startedBefore > 0 && prefixMaxEnd[startedBefore - 1]! >= e.startMs) {
      ambiguous.push(e);
      continue;
    }
    const epoch = lowerBound(endsSorted, e.startMs);
    let g = byEpoch.get(epoch);
    if (!g) byEpoch.set(epoch, (g = []));
    g.push(e);
  }
  const epochs: HistoryEntry[][] = [];
  for (const k of [...byEpoch.keys()].sort((a, b) => a - b)) epochs.push(...splitAtTtlGaps(byEpoch.get(k)!, ttlMs));
  return { epochs, ambiguous };
}

function splitAtTtlGaps(entries: HistoryEntry[], ttlMs: number | undefined): HistoryEntry[][] {
  if (ttlMs === undefined) return [entries];
  const out: HistoryEntry[][] = [[]];
  let lastWriteEndMs: number | undefined;
  for (const e of entries) {
    if (lastWriteEndMs !== undefined && e.startMs > lastWriteEndMs + ttlMs) {
      out.push([]);
      lastWriteEndMs = undefined;
    }
    out[out.length - 1]!.push(e);
    if (e.op === 'append' && e.outcome !== 'fail') lastWriteEndMs = Math.max(lastWriteEndMs ?? -Infinity, e.endMs);
  }
  return out.filter((g) => g.length > 0);
}

/** What a read saw, aligned on turnCount: ids[i] sits at position count - ids.length + i. */
export interface Observation {
  entry: HistoryEntry;
  count: number;
  ids: readonly string[];
  consistency: Consistency;
  degraded: boolean;
}

/** A read that observed the session (200 with a turnCount, or 404 = empty); undefined otherwise. */
export function observationOf(e: HistoryEntry, opts: ResolvedOptions): Observation | undefined {
  if (e.op !== 'read' || e.outcome !== 'ok') return undefined;
  const consistency = e.consistency ?? opts.readMode;
  const degraded = e.mode === 'degraded';
  if (e.status === 404) return { entry: e, count: 0, ids: [], consistency, degraded };
  if (e.turnCount === undefined) return undefined;
  return { entry: e, count: e.turnCount, ids: e.turnIds ?? [], consistency, degraded };
}

/**
 * First position the read vouches for: the window is the tail, so every turn at or after this
 * position must be in it. Covers the service's window size even when the answer returned fewer.
 */
export function coverStart(o: Observation, windowTurns: number): number {
  return o.count - Math.max(distinctCount(o.ids), Math.min(windowTurns, o.count));
}

/**
 * Turns a window shows: a turn id shown twice (a backend that stored it twice) takes one position,
 * not two, or the read would vouch for one position more than it holds. The duplicate itself is
 * no-duplicates' finding.
 */
export function distinctCount(ids: readonly string[]): number {
  if (ids.length > 32) return new Set(ids).size;
  let n = ids.length;
  for (let i = 1; i < ids.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ids[i] === ids[j]) {
        n--;
        break;
      }
    }
  }
  return n;
}

export function possiblyApplied(e: HistoryEntry): boolean {
  return e.op === 'append' && e.outcome !== 'fail';
}

/** Index of the first element >= x in an ascending array. */
export function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x in an ascending array. */
export function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
