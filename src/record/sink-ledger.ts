/**
 * The sink's book of who sent what: per runner, the batch ids already applied (so a retry is
 * applied once), entries and batches counted, when its last batch came, whether it said it was
 * done; and per reason, what was refused. The report's "runners" and "sink" sections are read
 * from here.
 */
import type { Rejection } from './sink-protocol.ts';

export interface RunnerRecord {
  id: string;
  batches: number;
  entries: number;
  /** Retried batches answered as duplicates (not applied again). */
  duplicates: number;
  firstBatchAtMs: number | null;
  lastBatchAtMs: number | null;
  /** When its final metrics came (the runner's last word); null while it has not said it is done. */
  doneAtMs: number | null;
  /** The final metrics it posted, as validated by the sink's owner. */
  metrics?: unknown;
}

export interface SinkStats {
  /** Entries applied (duplicates not counted twice). */
  entries: number;
  batches: number;
  duplicateBatches: number;
  /** Refused requests by reason, and the entries they carried where the body could be read. */
  rejected: Record<Rejection, number>;
  rejectedEntries: number;
}

export class SinkLedger {
  private readonly runners = new Map<string, RunnerRecord & { seen: Set<string> }>();
  readonly stats: SinkStats = {
    entries: 0,
    batches: 0,
    duplicateBatches: 0,
    rejected: { unauthorized: 0, 'unknown-run': 0, malformed: 0, 'too-large': 0, 'too-many-runners': 0 },
    rejectedEntries: 0,
  };

  constructor(private readonly maxRunners: number) {}

  /** False when the runner is new and the book is full. */
  admits(runner: string): boolean {
    return this.runners.has(runner) || this.runners.size < this.maxRunners;
  }

  /** Whether this batch id was applied already for this runner. */
  isDuplicate(runner: string, batch: string): boolean {
    return this.runners.get(runner)?.seen.has(batch) ?? false;
  }

  /** Notes a duplicate: answered, not applied. */
  duplicate(runner: string, atMs: number): void {
    const r = this.runner(runner);
    r.duplicates++;
    r.lastBatchAtMs = atMs;
    this.stats.duplicateBatches++;
  }

  applied(runner: string, batch: string, entries: number, atMs: number): void {
    const r = this.runner(runner);
    r.seen.add(batch);
    r.batches++;
    r.entries += entries;
    r.firstBatchAtMs ??= atMs;
    r.lastBatchAtMs = atMs;
    this.stats.batches++;
    this.stats.entries += entries;
  }

  done(runner: string, batch: string, metrics: unknown, atMs: number): void {
    const r = this.runner(runner);
    r.seen.add(batch);
    r.metrics = metrics;
    r.doneAtMs = atMs;
    r.firstBatchAtMs ??= atMs;
    r.lastBatchAtMs = atMs;
  }

  rejected(reason: Rejection, entries = 0): void {
    this.stats.rejected[reason]++;
    this.stats.rejectedEntries += entries;
  }

  /** Makes a runner known before it sends anything (local runners), so one that never sends is reported. */
  expect(runner: string): void {
    this.runner(runner);
  }

  list(): RunnerRecord[] {
    return [...this.runners.values()].map(({ seen: _seen, ...r }) => ({ ...r }));
  }

  get(runner: string): RunnerRecord | undefined {
    const r = this.runners.get(runner);
    if (!r) return undefined;
    const { seen: _seen, ...rest } = r;
    return { ...rest };
  }

  private runner(id: string): RunnerRecord & { seen: Set<string> } {
    let r = this.runners.get(id);
    if (!r) {
      r = { id, batches: 0, entries: 0, duplicates: 0, firstBatchAtMs: null, lastBatchAtMs: null, doneAtMs: null, seen: new Set() };
      this.runners.set(id, r);
    }
    return r;
  }
}
