/**
 * A history that moves to disk once it is large: past `spillAfter` entries, every entry (those
 * held so far, four per later add until none is left, then each new one as it comes) is written
 * as one NDJSON line to the file its session id names
 * (partitionOf over the files), and memory keeps only the write buffers once those held are
 * written. checkPartitioned then
 * reads one partition at a time, a partition being as many files as keep it near
 * PARTITION_LINES entries (groupCount): small partitions up to about 8 M entries (2,048 files).
 *
 *   add ─▶ entries in memory ──(spillAfter reached)──▶ dir/part-0000.ndjson … part-2047.ndjson
 *                                                            │ load(i): files i, i + count, …
 *                                                            │ parsed, strings interned, id order
 *                                                            ▼
 *                                                       one partition's entries
 *
 * Below the threshold nothing touches the disk and `entries` is the whole history, as historyLog
 * gives it. The files are partition-files.ts's: synchronous, batched writes.
 */
import { partitionInMemory, partitionKey, partitionOf, type HistoryPartitions } from '../check/partitioned-check.ts';
import { interner, markNormalized, normalizeEntry } from '../check/sessions.ts';
import type { HistoryEntry } from '../record/history.ts';
import { UsageError } from '../base/errors.ts';
import { linesOf } from '../base/lines.ts';
import { filesOf, groupCount, PARTITION_LINES, partitionFiles, type PartitionFiles } from './partition-files.ts';
import type { HistoryLog, HistoryLogOptions } from './history-log.ts';

export interface SpillOptions extends HistoryLogOptions {
  /** Where the partition files go (created if missing); they are the caller's to remove. Absent, the log never spills. */
  dir?: string;
  /** Entries held in memory before the log moves to disk. Default 500,000 (with a `dir`). */
  spillAfter?: number;
  /** Files the history is split into once spilled. Default 2,048. */
  partitions?: number;
  /** Entries a partition holds on average, at most, where the files allow it (groupCount). Default PARTITION_LINES. */
  partitionEntries?: number;
}

export interface SpillingHistoryLog extends HistoryLog {
  /** Entries recorded, in memory or on disk. */
  readonly size: number;
  /** Where it moves to disk (Infinity: never). */
  readonly spillAfter: number;
  /** Whether the log is on disk; `entries` is then empty and partitions() is the way to read it. */
  readonly spilled: boolean;
  /** Every instance an entry named (the router's header), in or out of memory. */
  readonly instances: ReadonlySet<string>;
  /** The history in partitions of whole sessions (flushes the write buffers first). */
  partitions(): HistoryPartitions;
  /**
   * Every entry's JSON text in arrival order (ids ascending), for history.json. On disk the
   * partition files' lines are merged as they are read, by the id each line starts with, a chunk
   * of each file at a time: nothing is parsed, and memory holds a chunk per partition.
   */
  jsonInOrder(): Iterable<string>;
  /** The entries with these ids, in id order (one pass over the partitions when spilled). */
  pick(ids: ReadonlySet<number>): HistoryEntry[];
  /** Flushes and closes the files; the log takes no more entries. */
  close(): void;
}

// Read by jsonInOrder from every file at once: 2,048 files, 32 MiB.
const MERGE_CHUNK = 16 * 1024;
const ID_PREFIX = '{"id":';
// Held entries written per entry added while a spill drains: it ends within spillAfter / 3 adds.
const DRAIN_PER_ADD = 4;
const NONE: readonly HistoryEntry[] = markNormalized(Object.freeze([]));

// Files enough that a history at the spilled cap (about 7.2 M operations at Node 20's default
// heap, history-bound.ts) is still read in partitions of PARTITION_LINES.
export const SPILL_DEFAULTS = { spillAfter: 500_000, partitions: 2048 };

/** The run directory's folder for the partition files while the run lasts (removed when it ends). */
export const SPILL_DIR = '.history-parts';

/** Entries a run holds in memory before its history spills: STATEPROOF_SPILL_AFTER, or the default. */
export function spillThreshold(env: NodeJS.ProcessEnv = process.env): number {
  return operationsEnv(env, 'STATEPROOF_SPILL_AFTER', SPILL_DEFAULTS.spillAfter);
}

/** Entries a spilled run's partitions hold on average, at most: STATEPROOF_PARTITION_ENTRIES, or PARTITION_LINES. */
export function partitionEntries(env: NodeJS.ProcessEnv = process.env): number {
  return operationsEnv(env, 'STATEPROOF_PARTITION_ENTRIES', PARTITION_LINES);
}

function operationsEnv(env: NodeJS.ProcessEnv, name: string, otherwise: number): number {
  const given = env[name];
  if (given === undefined || given === '') return otherwise;
  const n = Number(given);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of operations (at least 1), got '${given}'`);
  return n;
}

export function spillingHistoryLog(opts: SpillOptions): SpillingHistoryLog {
  const dir = opts.dir;
  const spillAfter = dir === undefined ? Infinity : (opts.spillAfter ?? SPILL_DEFAULTS.spillAfter);
  const count = opts.partitions ?? SPILL_DEFAULTS.partitions;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`partitions must be a whole number >= 1, got ${count}`);
  const perPartition = opts.partitionEntries ?? PARTITION_LINES;
  const limit = opts.softLimit ?? Infinity;
  let told = false;
  let memory: HistoryEntry[] = markNormalized([]);
  let intern = interner();
  let nextId = 1;
  let size = 0;
  let tenanted = false;
  const instances = new Set<string>();
  let files: PartitionFiles | undefined;
  let closed = false;

  // Once spilled, the entries still held (memory from `held` on) are written a few per add, in
  // id order before any newer one: writing 500,000 at once stopped the load for 2.5-5.3 s.
  let held = -1;
  const write = (e: HistoryEntry): void => files!.write(partitionOf(partitionKey(e), count), JSON.stringify(e));
  const drain = (n: number): void => {
    const slots = memory as (HistoryEntry | undefined)[];
    const end = Math.min(slots.length, held + n);
    for (; held < end; held++) {
      write(slots[held]!);
      slots[held] = undefined;
    }
    if (held < slots.length) return;
    held = -1;
    memory = markNormalized([]);
    intern = interner();
  };
  const drained = (): void => {
    if (held >= 0) drain(Infinity);
  };
  const loadFiles = (which: readonly number[]): HistoryEntry[] => {
    if (!files) throw new Error('spillingHistoryLog: load() before the log spilled');
    // One interner per session: a window's ids are its own session's, and a session's map stays
    // the same size however long the run, where one map per partition grew with it.
    const interners = new Map<string, (s: string) => string>();
    const out: HistoryEntry[] = [];
    for (const f of which) {
      for (const line of files.lines(f)) {
        const raw = JSON.parse(line) as HistoryEntry;
        let intern = interners.get(raw.session);
        if (!intern) interners.set(raw.session, (intern = interner()));
        out.push(normalizeEntry(raw, intern));
      }
    }
    // Each file is in id order: the sort (a merge sort that finds those runs) joins them.
    if (which.length > 1) out.sort((a, b) => a.id - b.id);
    return markNormalized(out);
  };

  return {
    get entries() {
      return files ? NONE : memory;
    },
    get size() {
      return size;
    },
    spillAfter,
    get spilled() {
      return files !== undefined;
    },
    instances,
    add(entry) {
      if (closed) throw new Error('spillingHistoryLog: add() after close()');
      entry.id = nextId++;
      size++;
      if (entry.tenant !== undefined) tenanted = true;
      if (entry.instance !== undefined) instances.add(entry.instance);
      // Normalized, so every line starts with its id (the merge for history.json reads only that).
      if (files && held < 0) write(normalizeEntry(entry));
      else {
        memory.push(normalizeEntry(entry, intern));
        if (!files && memory.length >= spillAfter) {
          files = partitionFiles(dir!, 'part', count);
          held = 0;
        }
        if (held >= 0) drain(DRAIN_PER_ADD);
      }
      if (!told && size >= limit) {
        told = true;
        opts.onSoftLimit?.();
      }
    },
    partitions() {
      drained();
      const groups = groupCount(count, size, perPartition);
      if (!files) return partitionInMemory(memory, groups);
      return { count: groups, tenanted, load: (i) => loadFiles(filesOf(i, groups, count)) };
    },
    jsonInOrder() {
      drained();
      if (!files) return { *[Symbol.iterator]() { for (const e of memory) yield JSON.stringify(e); } };
      const names = Array.from({ length: count }, (_, i) => files!.file(i));
      return { [Symbol.iterator]: () => mergeById(names) };
    },
    pick(ids) {
      drained();
      if (!files) return memory.filter((e) => ids.has(e.id));
      if (ids.size === 0) return [];
      const out: HistoryEntry[] = [];
      for (let i = 0; i < count; i++) for (const e of loadFiles([i])) if (ids.has(e.id)) out.push(e);
      return out.sort((a, b) => a.id - b.id);
    },
    close() {
      if (closed) return;
      drained();
      closed = true;
      files?.close();
    },
  };
}

/** The lines of partition files (each in id order) merged into one id order, a chunk of each file in memory. */
function* mergeById(files: readonly string[]): Generator<string> {
  // A binary heap of each file's next line by id: thousands of files, millions of lines.
  const heap: { id: number; line: string; next: Iterator<string> }[] = [];
  const less = (a: number, b: number) => heap[a]!.id < heap[b]!.id;
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [heap[b]!, heap[a]!]);
  const down = (at: number): void => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let min = at;
      if (l < heap.length && less(l, min)) min = l;
      if (r < heap.length && less(r, min)) min = r;
      if (min === at) return;
      swap(at, min);
      at = min;
    }
  };
  for (const f of files) {
    // Reopened for each chunk: thousands of files read side by side hold no descriptors.
    const next = linesOf(f, MERGE_CHUNK, true);
    const r = next.next();
    if (!r.done) heap.push({ id: idOf(r.value), line: r.value, next });
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  while (heap.length) {
    const top = heap[0]!;
    yield top.line;
    const r = top.next.next();
    if (!r.done) {
      top.id = idOf(r.value);
      top.line = r.value;
    } else {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length) down(0);
  }
}

/** A spilled line's id: every line is a normalized entry, whose first key is its id. */
function idOf(line: string): number {
  const id = line.startsWith(ID_PREFIX) ? Number.parseInt(line.slice(ID_PREFIX.length), 10) : NaN;
  if (!Number.isSafeInteger(id)) throw new Error(`spillingHistoryLog: a partition line does not start with its id: ${line.slice(0, 40)}`);
  return id;
}
