/**
 * An audit trail kept on disk in the spilled history's partitions: a record goes to the partition
 * file its session id names (partitionOf(partitionKey)), so checkPartitioned reads each
 * partition's audit beside its entries and the whole trail is never in memory. At 5 M operations
 * the trail held whole was 1.2 GB of the check's peak (bench/check.bench.ts).
 */
import { partitionKey, partitionOf, type AuditPartitions } from '../check/partitioned-check.ts';
import { parseAuditLine } from '../check/reconcile.ts';
import { interner } from '../check/sessions.ts';
import type { AuditRecord } from '../check/types.ts';
import { partitionFiles } from './partition-files.ts';

export interface AuditSpill {
  /** Files record r; `line` is its text as logged, when there is one (else it is written as JSON). */
  add(r: AuditRecord, line?: string): void;
  readonly size: number;
  /** The trail by partition (closes the files for writing). */
  partitions(): AuditPartitions;
  close(): void;
}

export function auditSpill(dir: string, count: number): AuditSpill {
  const files = partitionFiles(dir, 'audit', count);
  let size = 0;
  return {
    add(r, line) {
      files.write(partitionOf(partitionKey(r), count), line ?? JSON.stringify(r));
      size++;
    },
    get size() {
      return size;
    },
    partitions() {
      files.close();
      return {
        count,
        size,
        load(i) {
          const intern = interner();
          const out: AuditRecord[] = [];
          for (const line of files.lines(i)) {
            const r = parseAuditLine(line, intern);
            if (r) out.push(r);
          }
          return out;
        },
      };
    },
    close: () => files.close(),
  };
}
