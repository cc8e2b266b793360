/**
 * An audit trail kept on disk in the spilled history's partitions: a record goes to the partition
 * file its session id names (partitionOf(partitionKey)), so checkPartitioned reads each
 * partition's audit beside its entries and the whole trail is never in memory. At 5 M operations
 * the trail held whole was 1.2 GB of the check's peak (bench/check.bench.ts). Like the history,
 * the files may be read as fewer partitions (a divisor of the files): those the history is read as.
 */
import { partitionKey, partitionOf, type AuditPartitions } from '../check/partitioned-check.ts';
import { parseAuditLine } from '../check/reconcile.ts';
import { interner } from '../check/sessions.ts';
import type { AuditRecord } from '../check/types.ts';
import { checkGroups, filesOf, partitionFiles } from './partition-files.ts';

export interface AuditSpill {
  /** Files record r; `line` is its text as logged, when there is one (else it is written as JSON). */
  add(r: AuditRecord, line?: string): void;
  readonly size: number;
  /** The trail as `count` partitions (default: one a file; the count must divide the files), closing the files for writing. */
  partitions(count?: number): AuditPartitions;
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
    partitions(groups = count) {
      files.close();
      checkGroups(count, groups);
      return {
        count: groups,
        size,
        // Each session's records are in one file, in the order logged: what a session-scoped check reads.
        load(i) {
          const intern = interner();
          const out: AuditRecord[] = [];
          for (const f of filesOf(i, groups, count)) {
            for (const line of files.lines(f)) {
              const r = parseAuditLine(line, intern);
              if (r) out.push(r);
            }
          }
          return out;
        },
      };
    },
    close: () => files.close(),
  };
}
