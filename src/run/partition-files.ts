/**
 * Line files split by partition, appended through a write buffer: what a spilled history and a
 * spilled audit trail are kept in (history-spill.ts, audit-spill.ts).
 *
 * Writes are synchronous and batched, a flush per 256 KiB of one file: at ten thousand lines a
 * second that is a few writes a second, and a crash loses at most the buffers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { linesOf } from '../base/lines.ts';

const FLUSH_BYTES = 256 * 1024;
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

/** `count` files named `<prefix>-NN.ndjson` in `dir` (created if missing; the files are the caller's to remove). */
export function partitionFiles(dir: string, prefix: string, count: number): PartitionFiles {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`partitions must be a whole number >= 1, got ${count}`);
  fs.mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `${prefix}-${String(i).padStart(2, '0')}.ndjson`);
    return { fd: fs.openSync(file, 'w'), file, buffer: [] as string[], bytes: 0 };
  });
  let closed = false;
  const flush = (f: (typeof files)[number]): void => {
    if (f.buffer.length === 0 || closed) return;
    fs.writeSync(f.fd, f.buffer.join('\n') + '\n');
    f.buffer = [];
    f.bytes = 0;
  };
  const file = (i: number): string => {
    const f = files[i]!;
    flush(f);
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
      for (const f of files) fs.closeSync(f.fd);
    },
  };
}
