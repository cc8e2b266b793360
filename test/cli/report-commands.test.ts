/**
 * compare and capacity through the real binary, on runs written from the report fixture: the
 * machine output of compare, and capacity's TTL rule and used_memory breakdown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/report/result-schema.ts';
import { writeReports } from '../../src/report/write.ts';
import { cli } from '../helpers/cli.ts';
import { makeResult } from '../report/fixture.ts';

let dir: string;
const run = (name: string) => path.join(dir, name);

function withKeyMemory(r: RunResult, declaredTtlSeconds: number | null): RunResult {
  const c = r.capacity!;
  const n = c.measured.sessions;
  return {
    ...r,
    capacity: {
      ...c,
      measured: {
        ...c.measured,
        usedMemoryPerSessionBytes: 30_000,
        keyMemory: [
          { kind: 'state', keys: n, sampledKeys: n, bytes: n * 2_632 },
          { kind: 'turn-id index', keys: n, sampledKeys: n, bytes: n * 25_664 },
        ],
      },
      settings: { ...c.settings, ttlSeconds: 5, declaredTtlSeconds },
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-report-cmds-'));
  await writeReports(makeResult({ seed: 11, runId: 'base' }).result, run('base'));
  await writeReports(makeResult({ seed: 13, runId: 'slow', extraLatencyMs: 50 }).result, run('slow'));
  await writeReports(withKeyMemory(makeResult({ seed: 11, runId: 'cap' }).result, null), run('cap'));
  await writeReports(withKeyMemory(makeResult({ seed: 11, runId: 'declared' }).result, 1800), run('declared'));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compare', () => {
  it('--json puts the comparison alone on stdout, with each regression\'s values and threshold', async () => {
    const r = await cli(['compare', run('base'), run('slow'), '--json', '--fail-on-regression', '--out', run('cmp')]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.baseline).toBe('reference (base)');
    expect(json.regressed).toBe(true);
    const p99 = json.regressions.find((x: { label: string }) => x.label === 'all ops · whole run p99');
    expect(p99.before).toBeLessThan(p99.after);
    expect(p99.threshold).toMatch(/worse by more than .* and above the baseline's 99 % interval/);
    expect(p99.text).toMatch(/ms → .* ms/);
    expect(r.stderr).toMatch(/Wrote .*compare\.html/);
  });

  it('leads the terminal output with a short headline table', async () => {
    const r = await cli(['compare', run('base'), run('slow'), '--out', run('cmp2')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const verdictAt = lines.findIndex((l) => /regressions? against/.test(l));
    expect(verdictAt).toBeGreaterThan(0);
    expect(verdictAt).toBeLessThan(16);
    expect(lines.slice(0, verdictAt).join('\n')).toMatch(/invariants held[\s\S]*p99 latency \(all ops, whole run\)[\s\S]*error rate/);
    expect(lines.length).toBeLessThan(60);
  });
});

describe('capacity', () => {
  it('asks for --ttl-seconds rather than using the scenario\'s test TTL, and prints the TTL it used', async () => {
    const refused = await cli(['capacity', run('cap'), '--sessions-per-hour', '120000', '--no-write']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/--sessions-per-hour needs --ttl-seconds N.*this run's 5 s TTL is the scenario's test setting/);
    const given = await cli(['capacity', run('cap'), '--sessions-per-hour', '120000', '--ttl-seconds', '3600', '--no-write']);
    expect(given.code).toBe(0);
    expect(given.stdout).toMatch(/TTL used: 3,600 s \(--ttl-seconds\)\./);
    expect(given.stdout).toMatch(/120,000 +/);
    const declared = await cli(['capacity', run('declared'), '--sessions-per-hour', '120000', '--no-write']);
    expect(declared.code).toBe(0);
    expect(declared.stdout).toMatch(/TTL used: 1,800 s \(the backend's declared TTL\)\./);
    expect(declared.stdout).toMatch(/60,000 +/);
  });

  it('shows where used_memory goes by key kind and which figure to provision by', async () => {
    const r = await cli(['capacity', run('cap'), '--sessions', '1000', '--no-write']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state +40 +2\.57 KiB +8\.8%/);
    expect(r.stdout).toMatch(/turn-id index +40 +25\.1 KiB +85\.5%/);
    expect(r.stdout).toMatch(/not in any key \(Redis overhead\) +1\.66 KiB +5\.7%/);
    expect(r.stdout).toMatch(/Provision by Redis used_memory per session \(29\.3 KiB\), not by payload.*turn-id index alone is 86 %/);
    expect(r.stdout.match(/Provision by/g)).toHaveLength(1);
  });
});
