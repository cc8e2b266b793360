/**
 * The crash of issue 18 as a test: a correct backend that answers as fast as it can (in-memory,
 * in-process) under cross-instance, through --target. The history grows to many times what the
 * ci profile makes against the reference service, sessions grow long, and every read's Elle line
 * carries its whole list; the run must still end with a verdict and its reports, not a stack trace.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import v8 from 'node:v8';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/run-scenario.ts';
import { startContractBackend, type ContractBackend } from '../helpers/contract-backend.ts';

let backend: ContractBackend;
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-fast-'));
  backend = await startContractBackend({ windowTurns: 10 });
});
afterAll(async () => {
  await backend?.close();
  await rm(outDir, { recursive: true, force: true });
});

describe('a fast, correct backend', () => {
  it('under cross-instance ends with a verdict and every report, however long its sessions grow', async () => {
    const lines: string[] = [];
    // A budget far below what this history exports, so the test does not depend on how fast the machine is.
    const elleMaxBytes = 256 * 1024;
    const o = await runScenario({ scenario: 'cross-instance', target: backend.url, outDir, elleMaxBytes, log: (l) => lines.push(l) });
    expect(o.result.verdict.exitCode).toBeTypeOf('number');
    const entries = o.result.historyEntries;
    expect(entries).toBeGreaterThan(0);
    for (const f of ['result.json', 'index.html', 'summary.md', 'junit.xml', 'history.json', 'history.edn']) expect((await stat(path.join(o.runDir, f))).size).toBeGreaterThan(0);
    // A correct backend: every invariant that could be checked holds (the witnesses it gives no access to are listed as unchecked).
    expect(o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    const edn = await stat(path.join(o.runDir, 'history.edn'));
    expect(edn.size).toBeLessThanOrEqual(elleMaxBytes);
    expect(lines.some((l) => /history\.edn holds the first \d+ of \d+ Elle events/.test(l))).toBe(true);
    const history = JSON.parse(await readFile(path.join(o.runDir, 'history.json'), 'utf8')) as unknown[];
    expect(history).toHaveLength(entries);
    console.log(`fast backend: ${entries} operations, ${backend.answered} requests answered; ${lines.filter((l) => l.includes('history.edn')).join(' ')}`);
  }, 180_000);

  it('past the history\'s memory bound the load stops and the run ends interrupted, saying why, with its reports', async () => {
    const lines: string[] = [];
    process.env.STATEPROOF_MAX_HISTORY = '3000';
    try {
      const o = await runScenario({ scenario: 'cross-instance', target: backend.url, outDir, log: (l) => lines.push(l) });
      const stop = o.result.verdict.interrupted;
      expect(stop?.signal).toMatch(/^the history's memory bound \(3,000 operations recorded; STATEPROOF_MAX_HISTORY/);
      expect(stop!.stage).toBe('load');
      // Stopped well before the scenario's 16 s: the bound, not the clock, ended the load.
      expect(stop!.afterMs).toBeLessThan(stop!.plannedMs ?? Infinity);
      expect(o.exitCode).toBe(105);
      expect(o.result.historyEntries).toBeGreaterThanOrEqual(3000);
      expect(lines.some((l) => /3,000 operations recorded, the history's memory bound: stopping the load/.test(l))).toBe(true);
      for (const f of ['result.json', 'index.html', 'history.json']) expect((await stat(path.join(o.runDir, f))).size).toBeGreaterThan(0);
    } finally {
      delete process.env.STATEPROOF_MAX_HISTORY;
    }
  }, 180_000);

  it('past STATEPROOF_SPILL_AFTER the history goes to disk, is checked partition by partition, and every operation still reaches history.json', async () => {
    const lines: string[] = [];
    // A backend of its own: the sessions the runs above grew would read as turns this run never sent.
    const fresh = await startContractBackend({ windowTurns: 10 });
    process.env.STATEPROOF_SPILL_AFTER = '2000';
    // Several partitions, as a long run has: the default would check a run this short in one.
    process.env.STATEPROOF_PARTITION_ENTRIES = '500';
    try {
      const o = await runScenario({ scenario: 'cross-instance', target: fresh.url, outDir, log: (l) => lines.push(l) });
      const entries = o.result.historyEntries;
      expect(entries).toBeGreaterThan(2000);
      expect(lines.some((l) => /load finished \([\d,]+ operations recorded, on disk past 2,000 \(STATEPROOF_SPILL_AFTER\)\)/.test(l))).toBe(true);
      expect(lines.some((l) => /the history is checked in ([2-9]|\d\d+) partition\(s\) of whole sessions/.test(l))).toBe(true);
      expect(o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
      expect(o.result.invariants.every((i) => i.status === 'held' || i.status === 'not-applicable')).toBe(true);
      expect(o.exitCode).toBe(0);
      const history = JSON.parse(await readFile(path.join(o.runDir, 'history.json'), 'utf8')) as { id: number }[];
      expect(history.map((e) => e.id)).toEqual(Array.from({ length: entries }, (_, i) => i + 1));
      expect(lines.some((l) => /history\.edn not written: .* spilled to disk/.test(l))).toBe(true);
      await expect(stat(path.join(o.runDir, 'history.edn'))).rejects.toThrow();
      await expect(stat(path.join(o.runDir, '.history-parts'))).rejects.toThrow();
    } finally {
      delete process.env.STATEPROOF_SPILL_AFTER;
      delete process.env.STATEPROOF_PARTITION_ENTRIES;
      await fresh.close();
    }
  }, 180_000);

  it('a bad STATEPROOF_SPILL_AFTER is refused in words', async () => {
    const { spillThreshold } = await import('../../src/run/history-spill.ts');
    expect(() => spillThreshold({ STATEPROOF_SPILL_AFTER: '0' })).toThrow(/STATEPROOF_SPILL_AFTER must be a whole number of operations \(at least 1\), got '0'/);
    expect(spillThreshold({ STATEPROOF_SPILL_AFTER: '1234' })).toBe(1234);
    expect(spillThreshold({})).toBe(500_000);
  });

  it('a bad STATEPROOF_PARTITION_ENTRIES is refused in words', async () => {
    const { partitionEntries } = await import('../../src/run/history-spill.ts');
    expect(() => partitionEntries({ STATEPROOF_PARTITION_ENTRIES: '1.5' })).toThrow(/STATEPROOF_PARTITION_ENTRIES must be a whole number of operations \(at least 1\), got '1.5'/);
    expect(() => partitionEntries({ STATEPROOF_PARTITION_ENTRIES: 'lots' })).toThrow(/got 'lots'/);
    expect(partitionEntries({ STATEPROOF_PARTITION_ENTRIES: '4000' })).toBe(4000);
    expect(partitionEntries({})).toBe(4_000);
  });

  it('a bad STATEPROOF_MAX_HISTORY is refused in words', async () => {
    const { historyBound } = await import('../../src/run/history-bound.ts');
    expect(() => historyBound({ STATEPROOF_MAX_HISTORY: 'lots' })).toThrow(/STATEPROOF_MAX_HISTORY must be a whole number of operations \(at least 1\), got 'lots'/);
    expect(historyBound({ STATEPROOF_MAX_HISTORY: '250' })).toBe(250);
    // Derived from the heap limit otherwise, and never below 100 k; a history that spills early is allowed three times as many.
    expect(historyBound({})).toBeGreaterThanOrEqual(100_000);
    const heap = v8.getHeapStatistics().heap_size_limit;
    expect(historyBound({})).toBe(Math.max(100_000, Math.floor(heap / 1800)));
    expect(historyBound({}, 500_000)).toBe(Math.max(100_000, Math.floor(heap / 600)));
    // A threshold past the in-memory bound never spills before the bound stops the load.
    expect(historyBound({}, 1e12)).toBe(historyBound({}));
  });
});
