/**
 * A history checked in partitions of whole sessions gives checkHistory's report: the same
 * verdicts, the same anomalies (as a set: the partitioned check lists them in order of their
 * first operation), the same stats and evidence. The history is a correct seeded one broken on
 * purpose in many ways, so most invariants have anomalies to agree on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededHistory } from '../../bench/seeded-history.ts';
import { seededRandom } from '../../src/base/random.ts';
import { checkHistory, INVARIANTS, type CheckOptions, type InvariantName } from '../../src/check/index.ts';
import { checkPartitioned, checkPartitionedWith, inIdOrder, partitionInMemory, type HistoryPartitions } from '../../src/check/partitioned-check.ts';
import type { AuditRecord, CheckReport, StoreSnapshot } from '../../src/check/types.ts';
import type { HistoryEntry } from '../../src/record/history.ts';
import { auditSpill } from '../../src/run/audit-spill.ts';
import { historyLog } from '../../src/run/history-log.ts';

function brokenRun(entries: number, seed: number): { history: readonly HistoryEntry[]; store: StoreSnapshot[]; audit: AuditRecord[] } {
  const rand = seededRandom(seed);
  const log = historyLog();
  const raw: HistoryEntry[] = [];
  const { store, audit } = seededHistory({ entries, seed, opsPerSession: 150 }, (e) => raw.push(e));
  const oversized: string[] = [];
  let lastWindow: string[] | undefined;
  for (const e of raw) {
    const r = rand();
    if (e.op === 'read' && e.turnIds?.length && e.tenant && rand() < 0.004) {
      // Another tenant reads this session id: it sees this tenant's turns, or (half the time)
      // turns of some other session, which live in another partition.
      const other = `tenant-${(Number(e.tenant.slice(7)) + 1) % 4}`;
      log.add({ ...e, tenant: other, turnIds: rand() < 0.5 || !lastWindow ? [...e.turnIds] : [...lastWindow] });
    }
    if (e.op === 'read' && e.turnIds?.length) lastWindow = e.turnIds;
    if (e.op === 'append' && e.turnId?.endsWith('-oversized')) oversized.push(e.turnId);
    if (e.summary && r < 0.3) e.summary = 'earlier turns compacted'; // pinned facts lost
    if (e.op === 'read' && e.turnIds && e.turnIds.length > 1 && oversized.length && r < 0.002) e.turnIds.push(oversized[Math.floor(rand() * oversized.length)]!); // stored, maybe in another session's window
    else if (e.op === 'read' && e.turnIds && e.turnIds.length > 1) {
      if (r < 0.01) e.turnIds.splice(Math.floor(rand() * e.turnIds.length), 1); // a lost or diverging window
      else if (r < 0.015) e.turnIds.push(e.turnIds[0]!); // a turn shown twice
      else if (r < 0.02 && e.turnCount) e.turnCount -= 1; // a stale count
      else if (r < 0.022) e.revision = (e.revision ?? 0) + 3;
    } else if (e.op === 'append') {
      if (r < 0.004) Object.assign(e, { status: 500, outcome: 'unknown', code: 'internal' });
      else if (r < 0.008) e.bodyMode = 'degraded';
      else if (r < 0.01 && e.schemaVersion) e.schemaVersion = 2;
    }
    log.add(e);
  }
  const cutAudit = audit.filter(() => rand() > 0.003);
  for (let i = 0; i < 40; i++) cutAudit.push({ ...cutAudit[Math.floor(rand() * cutAudit.length)]! });
  for (let i = 0; i < 1_000; i++) cutAudit.push({ time: 0, msg: 'audit', instance: 'i1', tenant: 'tenant-0', session: 'x-0', op: 'read', result: 'degraded', status: 200 });
  const cutStore = store.filter(() => rand() > 0.05).map((s) => (rand() < 0.05 ? { ...s, ttlSeconds: -1, turnIds: [...s.turnIds, 'never-sent'] } : s));
  return { history: log.entries, store: cutStore, audit: cutAudit };
}

/** Every invariant the inputs below can judge (metrics-agree needs /metrics text, which a seeded run has none of). */
const ALL = (Object.keys(INVARIANTS) as InvariantName[]).filter((n) => n !== 'metrics-agree');

function options(run: ReturnType<typeof brokenRun>): CheckOptions {
  const t0 = run.history[0]!.startMs;
  return {
    invariants: ALL,
    windowTurns: 10,
    stalenessBoundMs: 5,
    maxStateBytes: 3_000,
    sessionTtlMs: 60_000,
    expectedSchemaVersion: 3,
    store: run.store,
    audit: run.audit,
    faultWindows: [{ id: 'store-down', family: 'network', startMs: t0 + 200, endMs: t0 + 400 }],
    maxAnomaliesPerInvariant: 1_000_000,
  };
}

/** Partitions as a spilled log gives them: no whole history to fall back on, so the run-wide pass reads slim copies. */
const slimOnly = (p: HistoryPartitions): HistoryPartitions => ({ count: p.count, tenanted: p.tenanted, load: (i) => p.load(i) });

const canon = (r: CheckReport) => ({
  holds: r.holds,
  invariants: r.invariants.map((i) => ({ ...i, anomalies: i.anomalies.map((a) => JSON.stringify(a)).sort() })),
  stats: r.stats,
});

describe('checkPartitioned', () => {
  const run = brokenRun(30_000, 11);
  const whole = checkHistory(run.history, options(run));

  it('has a broken history to agree on: most invariants are violated, each with its own anomalies', () => {
    const violated = whole.invariants.filter((i) => !i.holds).map((i) => i.name);
    expect(violated).toEqual(expect.arrayContaining(['no-lost-writes', 'no-duplicates', 'no-divergence', 'monotonic-reads', 'no-store-5xx', 'degradation-flagged', 'audit-agrees', 'store-agrees', 'revision-per-turn', 'no-schema-regression', 'oversized-rejected', 'pinned-facts-kept', 'tenant-isolation']));
    expect(whole.invariants.find((i) => i.name === 'oversized-rejected')!.anomalies.map((a) => a.type)).toContain('oversized-stored');
    const audit = whole.invariants.find((i) => i.name === 'audit-agrees')!;
    expect(audit.anomalies.map((a) => a.type)).toContain('degraded-unflagged');
  });

  for (const count of [1, 4, 13]) {
    it(`in ${count} partition(s) gives checkHistory's report`, () => {
      const parts = partitionInMemory(run.history, count);
      expect(canon(checkPartitioned(parts, options(run)))).toEqual(canon(whole));
      expect(canon(checkPartitioned(slimOnly(parts), options(run)))).toEqual(canon(whole));
    });
  }

  it('checks the long-session set with no slim copy: its run-wide invariants fold over the partitions, oversized turns shown in other partitions too', () => {
    const LONG: InvariantName[] = ['bytes-within-cap', 'latency-flat', 'ttl-set', 'idle-expired', 'oversized-rejected', 'no-lost-writes', 'no-duplicates'];
    // No fault windows: with them the run-wide pass measures recovery over a slim copy.
    const { faultWindows: _windows, ...rest } = options(run);
    const o = { ...rest, invariants: LONG };
    const r = checkPartitionedWith(slimOnly(partitionInMemory(run.history, 6)), o);
    expect(canon(r.report)).toEqual(canon(checkHistory(run.history, o)));
    expect(r.slim).toBeUndefined();
    // A run-wide invariant that does not fold (the fault pair) still gets one.
    expect(checkPartitionedWith(slimOnly(partitionInMemory(run.history, 6)), { ...options(run), invariants: [...LONG, 'fault-p99-within-budget'] }).slim).toHaveLength(run.history.length);
  });

  it('checks the cross-instance set from slim copies that keep only the windows tenant isolation reads', () => {
    const CROSS: InvariantName[] = ['no-lost-writes', 'no-phantom-writes', 'no-duplicates', 'no-divergence', 'read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads', 'bounded-staleness', 'no-store-5xx', 'degradation-flagged', 'cas-respected', 'revision-per-turn', 'turn-order', 'tenant-isolation', 'audit-agrees', 'store-agrees'];
    const o = { ...options(run), invariants: CROSS };
    const w = checkHistory(run.history, o);
    expect(w.invariants.find((i) => i.name === 'tenant-isolation')!.anomalies.map((a) => a.type)).toContain('tenant-leak');
    expect(canon(checkPartitioned(slimOnly(partitionInMemory(run.history, 9)), o))).toEqual(canon(w));
  });

  it('lists the earliest anomalies under the cap, and counts the rest', () => {
    const capped = checkPartitioned(partitionInMemory(run.history, 5), { ...options(run), maxAnomaliesPerInvariant: 3 });
    const lost = capped.invariants.find((i) => i.name === 'no-lost-writes')!;
    const full = whole.invariants.find((i) => i.name === 'no-lost-writes')!;
    expect(lost.anomalies).toHaveLength(4);
    expect(lost.anomalies[3]!.message).toBe(`${full.anomalies.length - 3} more anomalies of this invariant not listed`);
    const firstOps = lost.anomalies.slice(0, 3).map((a) => a.ops[0]!);
    expect(firstOps).toEqual([...full.anomalies.map((a) => a.ops[0]!)].sort((a, b) => a - b).slice(0, 3));
  });

  it('draws a run-wide conclusion once, from every partition: no pinned turn checked anywhere is one not-observed', () => {
    const noPins = run.history.filter((e) => !e.turnId?.endsWith('-pinned'));
    const r = checkPartitioned(partitionInMemory(noPins, 6), { invariants: ['pinned-facts-kept'] });
    expect(r.invariants[0]!.anomalies).toEqual([{ type: 'not-observed', message: 'no pinned turn was followed by a summary read', ops: [] }]);
    const some = checkPartitioned(partitionInMemory(run.history, 6), { invariants: ['pinned-facts-kept'] });
    expect(some.invariants[0]!.anomalies.map((a) => a.type)).not.toContain('not-observed');
  });

  it('reads an audit trail on disk partition by partition, beside its history, to the same report', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stateproof-audit-parts-'));
    try {
      const count = 7;
      const spill = auditSpill(dir, count);
      for (const r of run.audit) spill.add(r);
      const auditParts = spill.partitions();
      expect(auditParts.size).toBe(run.audit.length);
      const { audit: _whole, ...rest } = options(run);
      const r = checkPartitionedWith(slimOnly(partitionInMemory(run.history, count)), rest, { auditParts });
      expect(canon(r.report)).toEqual(canon(whole));
      // Without the trail the audit checker has nothing to read: the files are what it read.
      expect(checkPartitioned(partitionInMemory(run.history, count), rest).invariants.find((i) => i.name === 'audit-agrees')!.anomalies[0]!.type).toBe('missing-input');
      expect(() => checkPartitionedWith(partitionInMemory(run.history, count + 1), rest, { auditParts })).toThrow(/the audit trail has 7 partitions, the history 8/);
      expect(() => checkPartitionedWith(partitionInMemory(run.history, count), options(run), { auditParts })).toThrow(/an audit trail given twice/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing input once, not once per partition', () => {
    const r = checkPartitioned(partitionInMemory(run.history, 4), { invariants: ['audit-agrees', 'no-lost-writes'] });
    expect(r.invariants.find((i) => i.name === 'audit-agrees')!.anomalies).toEqual([
      { type: 'missing-input', message: 'audit-agrees was requested but no audit was given to checkHistory', ops: [] },
    ]);
  });

  it('keeps every key a checker may compare in one partition: case variants and tenants of one session id', () => {
    const count = 16;
    const parts = partitionInMemory(
      [
        { id: 1, vu: 1, op: 'read', session: 'Mixed-Case', tenant: 'a', intendedStartMs: 0, startMs: 0, endMs: 1, outcome: 'ok', status: 404 },
        { id: 2, vu: 1, op: 'read', session: 'mixed-case', tenant: 'b', intendedStartMs: 0, startMs: 0, endMs: 1, outcome: 'ok', status: 404 },
      ],
      count,
    );
    const holding = Array.from({ length: count }, (_, i) => parts.load(i).length).filter((n) => n > 0);
    expect(holding).toEqual([2]);
    expect(parts.tenanted).toBe(true);
  });

  it('joins partitions into id order: placed by id when dense or nearly so, sorted otherwise', () => {
    const e = (id: number) => ({ id, vu: 1, op: 'read', session: 's', intendedStartMs: 0, startMs: 0, endMs: 1, outcome: 'ok', status: 200 }) as HistoryEntry;
    const ids = (parts: number[][]) => inIdOrder(parts.map((p) => p.map(e))).map((x) => x.id);
    expect(ids([[2, 5], [], [1, 3, 4]])).toEqual([1, 2, 3, 4, 5]);
    expect(ids([[10, 14], [12]])).toEqual([10, 12, 14]); // gaps
    expect(ids([[1, 1_000_000], [7]])).toEqual([1, 7, 1_000_000]); // too sparse to place
    expect(ids([[3, 1], [2]])).toEqual([1, 2, 3]); // a partition out of order
    expect(ids([[1, 2], [2, 3]])).toEqual([1, 2, 2, 3]); // a repeated id keeps both
    expect(ids([[0.5, 1], [2]])).toEqual([0.5, 1, 2]);
    expect(ids([[], []])).toEqual([]);
  });
});
