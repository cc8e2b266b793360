/**
 * The audit logs as the run reads them back: a stress run's log is hundreds of thousands of lines,
 * a missing log is no audit, and a log that cannot be read says which one.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey, partitionOf } from '../../src/check/partitioned-check.ts';
import { auditSpill } from '../../src/run/audit-spill.ts';
import { readAuditLogs } from '../../src/run/witnesses.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => JSON.stringify({ msg: 'audit', time: i, instance: 'i1', tenant: 't', session: `s${i % 97}`, op: 'append', result: 'applied', status: 200, turnId: `turn-${i}` });

describe('readAuditLogs', () => {
  it('reads every record of a log too long to spread into one push (200,000 lines), then the next log', async () => {
    const big = path.join(dir, 'i1.log');
    const small = path.join(dir, 'i2.log');
    await writeFile(big, Array.from({ length: 200_000 }, (_, i) => line(i)).join('\n') + '\n');
    await writeFile(small, `${line(-1)}\nnot an audit line\n{"msg":"other"}\n`);
    const audit = await readAuditLogs([big, small]);
    expect(audit).toHaveLength(200_001);
    expect(audit[0]!.turnId).toBe('turn-0');
    expect(audit[199_999]!.turnId).toBe('turn-199999');
    expect(audit.at(-1)!.turnId).toBe('turn--1');
  });

  it('skips a log that does not exist (an instance that never wrote one)', async () => {
    expect(await readAuditLogs([path.join(dir, 'never-written.log')])).toEqual([]);
  });

  it('names a log that exists but cannot be read, instead of reporting no audit', async () => {
    const notAFile = path.join(dir, 'a-directory.log');
    await mkdir(notAFile);
    await expect(readAuditLogs([notAFile])).rejects.toThrow(`could not read the audit log ${notAFile}`);
  });

  it('given a spill, writes every record to its session\'s partition file in the order logged, and holds none', async () => {
    const a = path.join(dir, 'spill-i1.log');
    const b = path.join(dir, 'spill-i2.log');
    await writeFile(a, Array.from({ length: 5_000 }, (_, i) => line(i)).join('\n') + '\nnot an audit line\n');
    await writeFile(b, Array.from({ length: 300 }, (_, i) => line(10_000 + i)).join('\n') + '\n');
    const spill = auditSpill(path.join(dir, 'parts'), 5);
    expect(await readAuditLogs([a, b], spill)).toEqual([]);
    const parts = spill.partitions();
    expect(parts.size).toBe(5_300);
    const read = Array.from({ length: 5 }, (_, i) => parts.load(i));
    for (const [i, records] of read.entries()) for (const r of records) expect(partitionOf(partitionKey(r), 5)).toBe(i);
    const all = read.flat();
    expect(all).toHaveLength(5_300);
    expect(new Set(all.map((r) => r.turnId)).size).toBe(5_300);
    // In each partition, the first log's records in its order, then the second's.
    for (const records of read) expect(records.map((r) => r.time)).toEqual([...records.map((r) => r.time)].sort((x, y) => x - y));
    expect(all.find((r) => r.turnId === 'turn-10299')).toMatchObject({ session: `s${10_299 % 97}`, op: 'append', result: 'applied', status: 200 });
  });
});
