/**
 * A run whose history spills (STATEPROOF_SPILL_AFTER far below what the ci profile records)
 * against the reference service, which writes an audit trail: the history and the audit both go
 * to disk, are checked partition by partition, and every invariant holds as it does in memory.
 *
 * Real processes throughout: redis-server, the fault proxy, reference-service instances, the router.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/run-scenario.ts';

let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-spilled-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('a spilled run against the reference service', () => {
  it('checks the audit trail from disk beside the history, and every invariant holds', async () => {
    const lines: string[] = [];
    process.env.STATEPROOF_SPILL_AFTER = '1000';
    // Several partitions, as a long run has: the default would check a run this short in one.
    process.env.STATEPROOF_PARTITION_ENTRIES = '500';
    try {
      const o = await runScenario({ scenario: 'cross-instance', outDir, log: (l) => lines.push(l) });
      expect(lines.some((l) => /operations recorded, on disk past 1,000 \(STATEPROOF_SPILL_AFTER\)/.test(l))).toBe(true);
      expect(lines.some((l) => /the history is checked in ([2-9]|\d\d+) partition\(s\) of whole sessions/.test(l))).toBe(true);
      expect(o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
      // Read, not skipped for want of an audit: a missing input would be an anomaly, and no evidence.
      const audit = o.result.invariants.find((i) => i.name === 'audit-agrees')!;
      expect(audit.status).toBe('held');
      expect(o.exitCode).toBe(0);
      expect(await readdir(o.runDir)).not.toContain('.history-parts');
    } finally {
      delete process.env.STATEPROOF_SPILL_AFTER;
      delete process.env.STATEPROOF_PARTITION_ENTRIES;
    }
  }, 240_000);
});
