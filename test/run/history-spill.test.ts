/**
 * The spilling history log: below its threshold it is historyLog; past it every entry is on disk
 * in partitions of whole sessions, and checking them partition by partition gives the report
 * checkHistory gives the same history in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededHistory } from '../../bench/seeded-history.ts';
import { checkHistory } from '../../src/check/index.ts';
import { checkPartitioned, checkPartitionedWith, partitionKey, partitionOf, type HistoryPartitions } from '../../src/check/partitioned-check.ts';
import type { AuditRecord } from '../../src/check/types.ts';
import { auditSpill } from '../../src/run/audit-spill.ts';
import type { HistoryEntry } from '../../src/record/history.ts';
import { historyLog } from '../../src/run/history-log.ts';
import { spillingHistoryLog } from '../../src/run/history-spill.ts';
import { groupCount, READ_CHUNK } from '../../src/run/partition-files.ts';

/** Every partition's entries, each partition checked to be partitionOf's and in id order, joined in id order. */
function loadEach(parts: HistoryPartitions): HistoryEntry[] {
  const loaded: HistoryEntry[] = [];
  for (let i = 0; i < parts.count; i++) {
    const p = parts.load(i);
    for (const e of p) expect(partitionOf(partitionKey(e), parts.count)).toBe(i);
    expect(p.map((e) => e.id)).toEqual([...p.map((e) => e.id)].sort((a, b) => a - b));
    loaded.push(...p);
  }
  return loaded.sort((a, b) => a.id - b.id);
}

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'stateproof-spill-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const CHECK = { invariants: ['no-lost-writes', 'no-duplicates', 'no-divergence', 'read-your-writes', 'bounded-staleness', 'audit-agrees', 'store-agrees', 'latency-flat'] as const, windowTurns: 10, stalenessBoundMs: 1_000 };

describe('spillingHistoryLog', () => {
  it('stays in memory below its threshold, numbering entries as historyLog does', () => {
    const dir = path.join(tmp(), 'never');
    const log = spillingHistoryLog({ dir, spillAfter: 1_000 });
    const plain = historyLog();
    seededHistory({ entries: 500 }, (e) => {
      log.add({ ...e });
      plain.add({ ...e });
    });
    expect(log.spilled).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    expect(log.entries).toEqual(plain.entries);
    expect([...log.jsonInOrder()]).toEqual(plain.entries.map((e) => JSON.stringify(e)));
    expect(log.pick(new Set([3, 7]))).toEqual([plain.entries[2], plain.entries[6]]);
    log.close();
  });

  it('past its threshold holds nothing in memory, and its partitions check as the whole history does', () => {
    const dir = tmp();
    const log = spillingHistoryLog({ dir, spillAfter: 4_000, partitions: 7, partitionEntries: 3_000 });
    const plain = historyLog();
    const { store, audit } = seededHistory({ entries: 20_000, opsPerSession: 300 }, (e) => {
      log.add({ ...e, turnIds: e.turnIds && [...e.turnIds] });
      plain.add(e);
    });
    expect(log.spilled).toBe(true);
    expect(log.entries).toHaveLength(0);
    expect(log.size).toBe(20_000);
    expect(fs.readdirSync(dir).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `part-000${i}.ndjson`));
    const parts = log.partitions();
    expect(parts.count).toBe(7);
    expect(loadEach(parts)).toEqual(plain.entries);
    expect([...log.jsonInOrder()]).toEqual(plain.entries.map((e) => JSON.stringify(e)));
    const ids = new Set([5, 4_001, 19_999, 123_456]);
    expect(log.pick(ids)).toEqual(plain.entries.filter((e) => ids.has(e.id)));
    const options = { ...CHECK, invariants: [...CHECK.invariants], store, audit };
    const whole = checkHistory(plain.entries, options);
    expect(checkPartitioned(parts, options)).toEqual(whole);
    log.close();
  });

  it('writes the entries it held a few per later add, never all at once, and close() loses none of them', () => {
    const dir = tmp();
    const log = spillingHistoryLog({ dir, spillAfter: 1_000, partitions: 8 });
    const plain = historyLog();
    const entries: HistoryEntry[] = [];
    seededHistory({ entries: 1_100, opsPerSession: 100 }, (e) => entries.push(e));
    const add = (e: HistoryEntry) => {
      log.add({ ...e, turnIds: e.turnIds && [...e.turnIds] });
      plain.add(e);
    };
    entries.slice(0, 999).forEach(add);
    expect(log.spilled).toBe(false);
    // The add that reaches the threshold, and the next: each stringifies a handful, not 1,000.
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      add(entries[999]!);
      expect(log.spilled).toBe(true);
      expect(stringify.mock.calls.length).toBeLessThanOrEqual(5);
      stringify.mockClear();
      add(entries[1_000]!);
      expect(stringify.mock.calls.length).toBeLessThanOrEqual(5);
    } finally {
      stringify.mockRestore();
    }
    expect(log.entries).toHaveLength(0);
    // Closed before the drain ends (1,001 entries at 4 an add would take 250 adds): all of it on disk.
    log.close();
    const onDisk = fs.readdirSync(dir).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEntry));
    expect(onDisk.sort((a, b) => a.id - b.id)).toEqual(plain.entries);
  });

  it('reads its files as the fewest partitions (a divisor of the files) that keep each near its size, every partition one of partitionOf', () => {
    const dir = tmp();
    const log = spillingHistoryLog({ dir, spillAfter: 1, partitions: 12, partitionEntries: 6_000 });
    const plain = historyLog();
    const spill = auditSpill(path.join(dir, 'audit'), 12);
    const { store } = seededHistory({ entries: 20_000, opsPerSession: 300, addAudit: (r) => spill.add(r) }, (e) => {
      log.add({ ...e, turnIds: e.turnIds && [...e.turnIds] });
      plain.add(e);
    });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('part-'))).toHaveLength(12);
    // 20,000 entries at 6,000 a partition: 4 partitions (12 / 3) of 3 files each, not 12 of one.
    const parts = log.partitions();
    expect(parts.count).toBe(4);
    expect(loadEach(parts)).toEqual(plain.entries);
    const auditParts = spill.partitions(parts.count);
    const audit: AuditRecord[] = [];
    for (let i = 0; i < auditParts.count; i++) {
      const p = auditParts.load(i);
      for (const r of p) expect(partitionOf(partitionKey(r), 4)).toBe(i);
      audit.push(...p);
    }
    expect(audit).toHaveLength(auditParts.size);
    const options = { ...CHECK, invariants: [...CHECK.invariants], store };
    const whole = checkHistory(plain.entries, { ...options, audit });
    expect(checkPartitionedWith(parts, options, { auditParts }).report).toEqual(whole);
    expect(() => spill.partitions(5)).toThrow(/12 files cannot be read as 5 partitions/);
    expect(() => spill.partitions(1.5)).toThrow(/12 files cannot be read as 1.5 partitions/);
    expect(groupCount(2048, 1_000_000)).toBe(256);
    expect(groupCount(2048, 5_000_000)).toBe(2048);
    expect(groupCount(2048, 100)).toBe(1);
    expect(groupCount(256, 1_000_000, 32_000)).toBe(32);
    expect(groupCount(7, 1_000_000)).toBe(7);
    log.close();
  });

  it('reads back entries whose text is not ASCII, across read chunks that end inside a character', () => {
    const dir = tmp();
    const log = spillingHistoryLog({ dir, spillAfter: 1, partitions: 1 });
    const summaries = Array.from({ length: 30 }, (_, i) => `remember: ${'é☕'.repeat(300_000 + 7 * i)}`);
    summaries.forEach((summary, i) => log.add({ id: 0, vu: 1, op: 'read', session: 's', intendedStartMs: i, startMs: i, endMs: i + 1, outcome: 'ok', status: 200, summary }));
    const got = log.partitions().load(0);
    expect(got.map((e) => e.summary)).toEqual(summaries);
    // The case this is about: some chunk of the reader ends on a continuation byte.
    const bytes = fs.readFileSync(path.join(dir, 'part-0000.ndjson'));
    const cuts = [];
    for (let at = READ_CHUNK; at < bytes.length; at += READ_CHUNK) if ((bytes[at]! & 0xc0) === 0x80) cuts.push(at);
    expect(cuts.length).toBeGreaterThan(0);
    log.close();
    expect(() => log.add({ id: 0, vu: 1, op: 'read', session: 's', intendedStartMs: 0, startMs: 0, endMs: 1, outcome: 'ok', status: 200 })).toThrow(/after close/);
  });
});
