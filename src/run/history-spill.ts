/**
 * A history that moves to disk once it is large: past `spillAfter` entries, every entry (those
 * held so far, then each new one) is written as one NDJSON line to the partition file its session
 * id names (partitionOf), and memory keeps only the write buffers. checkPartitioned then reads one
 * partition at a time.
 *
 *   add ─▶ entries in memory ──(spillAfter reached)──▶ dir/part-00.ndjson … part-NN.ndjson
 *                                                            │ load(i): lines parsed, strings interned
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
import { partitionFiles, type PartitionFiles } from './partition-files.ts';
import type { HistoryLog, HistoryLogOptions } from './history-log.ts';

export interface SpillOptions extends HistoryLogOptions {
  /** Where the partition files go (created if missing); they are the caller's to remove. Absent, the log never spills. */
  dir?: string;
  /** Entries held in memory before the log moves to disk. Default 500,000 (with a `dir`). */
  spillAfter?: number;
  /** Partition files once spilled. Default 32. */
  partitions?: number;
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

const MERGE_CHUNK = 256 * 1024;
const ID_PREFIX = '{"id":';

export const SPILL_DEFAULTS = { spillAfter: 500_000, partitions: 32 };

/** The run directory's folder for the partition files while the run lasts (removed when it ends). */
export const SPILL_DIR = '.history-parts';

/** Entries a run holds in memory before its history spills: STATEPROOF_SPILL_AFTER, or the default. */
export function spillThreshold(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.STATEPROOF_SPILL_AFTER;
  if (given === undefined || given === '') return SPILL_DEFAULTS.spillAfter;
  const n = Number(given);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`STATEPROOF_SPILL_AFTER must be a whole number of operations (at least 1), got '${given}'`);
  return n;
}

export function spillingHistoryLog(opts: SpillOptions): SpillingHistoryLog {
  const dir = opts.dir;
  const spillAfter = dir === undefined ? Infinity : (opts.spillAfter ?? SPILL_DEFAULTS.spillAfter);
  const count = opts.partitions ?? SPILL_DEFAULTS.partitions;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`partitions must be a whole number >= 1, got ${count}`);
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

  const write = (e: HistoryEntry): void => files!.write(partitionOf(partitionKey(e), count), JSON.stringify(e));
  const spill = (): void => {
    files = partitionFiles(dir!, 'part', count);
    for (const e of memory) write(e);
    memory = markNormalized([]);
    intern = interner();
  };
  const load = (i: number): HistoryEntry[] => {
    if (!files) throw new Error('spillingHistoryLog: load() before the log spilled');
    // One interner per session: a window's ids are its own session's, and a session's map stays
    // the same size however long the run, where one map per partition grew with it.
    const interners = new Map<string, (s: string) => string>();
    const out: HistoryEntry[] = [];
    for (const line of files.lines(i)) {
      const raw = JSON.parse(line) as HistoryEntry;
      let intern = interners.get(raw.session);
      if (!intern) interners.set(raw.session, (intern = interner()));
      out.push(normalizeEntry(raw, intern));
    }
    return markNormalized(out);
  };

  return {
    get entries() {
      return memory;
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
      if (files) write(normalizeEntry(entry));
      else {
        memory.push(normalizeEntry(entry, intern));
        if (memory.length >= spillAfter) spill();
      }
      if (!told && size >= limit) {
        told = true;
        opts.onSoftLimit?.();
      }
    },
    partitions() {
      if (!files) return partitionInMemory(memory, count);
      return { count, tenanted, load };
    },
    jsonInOrder() {
      if (!files) return { *[Symbol.iterator]() { for (const e of memory) yield JSON.stringify(e); } };
      const names = Array.from({ length: count }, (_, i) => files!.file(i));
      return { [Symbol.iterator]: () => mergeById(names) };
    },
    pick(ids) {
      if (!files) return memory.filter((e) => ids.has(e.id));
      if (ids.size === 0) return [];
      const out: HistoryEntry[] = [];
      for (let i = 0; i < count; i++) for (const e of load(i)) if (ids.has(e.id)) out.push(e);
      return out.sort((a, b) => a.id - b.id);
    },
    close() {
      if (closed) return;
      closed = true;
      files?.close();
    },
  };
}

/** The lines of partition files (each in id order) merged into one id order, a chunk of each file in memory. */
function* mergeById(files: readonly string[]): Generator<string> {
  const heads: { id: number; line: string; next: Iterator<string> }[] = [];
  const advance = (next: Iterator<string>): void => {
    const r = next.next();
    if (!r.done) heads.push({ id: idOf(r.value), line: r.value, next });
  };
  for (const f of files) advance(linesOf(f, MERGE_CHUNK));
  // A few dozen partitions: a linear scan for the smallest head costs less than keeping a heap.
  while (heads.length) {
    let min = 0;
    for (let i = 1; i < heads.length; i++) if (heads[i]!.id < heads[min]!.id) min = i;
    const [h] = heads.splice(min, 1);
    yield h!.line;
    advance(h!.next);
  }
}

/** A spilled line's id: every line is a normalized entry, whose first key is its id. */
function idOf(line: string): number {
  const id = line.startsWith(ID_PREFIX) ? Number.parseInt(line.slice(ID_PREFIX.length), 10) : NaN;
  if (!Number.isSafeInteger(id)) throw new Error(`spillingHistoryLog: a partition line does not start with its id: ${line.slice(0, 40)}`);
  return id;
}
