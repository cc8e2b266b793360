/**
 * Line files split by partition, appended through a write buffer: what a spilled history and a
 * spilled audit trail are kept in (history-spill.ts, audit-spill.ts).
 *
 * Writes are synchronous and batched, a flush per 8 KiB of one file: at ten thousand lines a
 * second that is some hundreds of appends a second, and a crash loses at most the buffers (16 MiB
 * at most over 2,048 files). No file is held open between flushes: an append opens and closes
 * its file (12 µs here for open, a 16 KiB append and close), so thousands of files cost no descriptors.
 *
 * There are more files than a check's partitions need, so that however many lines the run
 * recorded, its partitions can be made small by grouping files (groupCount): file f belongs to
 * partition f % count, and with count dividing the number of files that is exactly
 * partitionOf(key, count) for every line the file holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { linesOf } from '../base/lines.ts';

const FLUSH_BYTES = 8 * 1024;
export const READ_CHUNK = 8 * 1024 * 1024;

export interface PartitionFiles {
  readonly count: number;
  /** Appends one line (without its '\n') to partition i. */
  write(i: number, line: string): void;
  /** Partition i's file, its buffer flushed first. */
  file(i: number): string;
  /** Partition i's lines in the order written (its buffer flushed first). */
  lines(i: number, chunkBytes?: number): Generator<string>;
  /** Flushes every buffer and closes the files; no more writes. Idempotent. */
  close(): void;
}

/** `count` files named `<prefix>-NNNN.ndjson` in `dir` (created if missing; the files are the caller's to remove). */
export function partitionFiles(dir: string, prefix: string, count: number): PartitionFiles {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`partitions must be a whole number >= 1, got ${count}`);
  fs.mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `${prefix}-${String(i).padStart(4, '0')}.ndjson`);
    return { file, buffer: [] as string[], bytes: 0, made: false };
  });
  let closed = false;
  // A file is made by its first flush (truncating whatever was there), not all at once: making
  // 2,048 files took 50 ms to 2 s here (ext4 with discard, just after removals).
  const flush = (f: (typeof files)[number]): void => {
    if (f.buffer.length === 0 || closed) return;
    const text = f.buffer.join('\n') + '\n';
    if (f.made) fs.appendFileSync(f.file, text);
    else fs.writeFileSync(f.file, text);
    f.made = true;
    f.buffer = [];
    f.bytes = 0;
  };
  const file = (i: number): string => {
    const f = files[i]!;
    flush(f);
    if (!f.made) {
      fs.writeFileSync(f.file, '');
      f.made = true;
    }
    return f.file;
  };
  return {
    count,
    write(i, line) {
      if (closed) throw new Error(`partitionFiles: a write to ${prefix}-${i} after close()`);
      const f = files[i]!;
      f.buffer.push(line);
      f.bytes += line.length + 1;
      if (f.bytes >= FLUSH_BYTES) flush(f);
    },
    file,
    lines: (i, chunkBytes = READ_CHUNK) => linesOf(file(i), chunkBytes),
    close() {
      if (closed) return;
      for (const f of files) flush(f);
      closed = true;
    },
  };
}

/**
 * Lines a partition holds, on average, at most, where the files allow it. Per entry, checking a
 * partition cost more as the partition grew (bench check, spilled, 2026-12-03): 5 M operations
 * took 120-129 s in 32 partitions of 156,000 entries and 95 s in 160 of 31,000; 1 M took 19.1-21.1 s
 * in 32 partitions of 31,000 and 14.3-18.2 s in 256 of 3,900 (three rounds each, alternated).
 */
export const PARTITION_LINES = 4_000;

/**
 * How many partitions `files` files of `lines` lines in all are read as: the fewest, among the
 * divisors of `files` (so that grouping files is partitioning by partitionOf), that hold at most
 * `per` lines each on average; all the files when none does.
 */
export function groupCount(files: number, lines: number, per: number = PARTITION_LINES): number {
  if (!Number.isSafeInteger(files) || files < 1) throw new RangeError(`files must be a whole number >= 1, got ${files}`);
  if (!(per > 0)) throw new RangeError(`lines per partition must be above 0, got ${per}`);
  for (let d = 1; d < files; d++) if (files % d === 0 && lines / d <= per) return d;
  return files;
}

/** Refuses a partition count that is not a whole number dividing `files`: its partitions would not be partitionOf's. */
export function checkGroups(files: number, count: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || files % count !== 0) throw new RangeError(`${files} files cannot be read as ${count} partitions: the count must be a whole number that divides the files`);
}

/** The files partition i of `count` reads (count divides `files`). */
export function filesOf(i: number, count: number, files: number): number[] {
  checkGroups(files, count);
  const out: number[] = [];
  for (let f = i; f < files; f += count) out.push(f);
  return out;
}
