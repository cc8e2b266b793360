import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as capacityCmd } from '../../src/cli/commands/capacity.ts';
import { run as compareCmd } from '../../src/cli/commands/compare.ts';
import { GIB, measureCapacity, projectCapacity } from '../../src/report/capacity.ts';
import { compareResults } from '../../src/report/compare.ts';
import { parseResult } from '../../src/report/result-schema.ts';
import { writeReports } from '../../src/report/write.ts';
import { makeResult } from './fixture.ts';

let dir: string;
let out = '';
function capture() {
  const w = process.stdout.write;
  out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  return () => void (process.stdout.write = w);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-compare-'));
  const runs: Array<[string, Parameters<typeof makeResult>[0]]> = [
    ['base', { seed: 11, runId: 'base' }],
    ['same', { seed: 12, runId: 'same' }],
    ['slow', { seed: 13, runId: 'slow', extraLatencyMs: 50 }],
  ];
  for (const [name, opts] of runs) await writeReports(makeResult(opts).result, path.join(dir, name));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compare', () => {
  it('finds no regression between two runs of the same configuration', () => {
    const a = makeResult({ seed: 11 }).result;
    const b = makeResult({ seed: 12 }).result;
    const c = compareResults([a, b]);
    expect(c.regressions).toEqual([]);
    expect(c.rows.some((r) => r.section === 'latency' && r.gated)).toBe(true);
  });

  it('marks a run with 50 ms of injected latency as a regression, and the baseline as better the other way round', () => {
    const a = makeResult({ seed: 11 }).result;
    const slow = makeResult({ seed: 13, extraLatencyMs: 50 }).result;
    const c = compareResults([a, slow]);
    expect(c.regressions.length).toBeGreaterThan(0);
    const p50 = c.rows.find((r) => r.label === 'all ops · before p50')!;
    expect(p50.marks).toEqual(['baseline', 'worse']);
    const reverse = compareResults([slow, a]);
    expect(reverse.regressions).toEqual([]);
    expect(reverse.rows.find((r) => r.label === 'all ops · before p50')!.marks[1]).toBe('better');
  });

  it('flags an invariant that held in the baseline and fails now', () => {
    const a = makeResult({ seed: 11 }).result;
    const b = makeResult({ seed: 12, failing: true }).result;
    expect(compareResults([a, b]).regressions.join('\n')).toMatch(/invariants no-lost-writes/);
  });

  it('CLI: exits 1 with --fail-on-regression only when there is one, and writes md + html', async () => {
    const restore = capture();
    try {
      expect(await compareCmd([path.join(dir, 'same'), '--baseline', path.join(dir, 'base'), '--fail-on-regression', '--out', path.join(dir, 'cmp1')])).toBe(0);
      expect(out).toMatch(/No regressions beyond 10% noise/);
      expect(await compareCmd([path.join(dir, 'base'), path.join(dir, 'slow'), '--fail-on-regression', '--out', path.join(dir, 'cmp2')])).toBe(1);
      expect(out).toMatch(/WORSE/);
      expect(await compareCmd([path.join(dir, 'base'), path.join(dir, 'slow'), '--out', path.join(dir, 'cmp3')])).toBe(0);
    } finally {
      restore();
    }
    expect(await readFile(path.join(dir, 'cmp2', 'compare.md'), 'utf8')).toMatch(/regression/);
    expect(await readFile(path.join(dir, 'cmp2', 'compare.html'), 'utf8')).toContain('REGRESSION');
  });

  it('CLI: a missing run directory is a usage error', async () => {
    await expect(compareCmd([path.join(dir, 'base'), path.join(dir, 'nope')])).rejects.toThrow(/does not exist/);
  });
});

describe('capacity', () => {
  const measured = measureCapacity({
    bytesPerSession: Array.from({ length: 100 }, (_, i) => 1000 + i * 10),
    usedMemoryBaselineBytes: 1_000_000,
    usedMemoryEndBytes: 1_300_000,
    settings: { windowTurns: 10, ttlSeconds: 3600 },
  });

  it('measures percentiles and used_memory per session', () => {
    expect(measured.measured.bytesPerSession).toEqual({ p50: 1490, p99: 1980, max: 1990 });
    expect(measured.measured.usedMemoryPerSessionBytes).toBe(3000);
  });

  it('projects to N sessions, sessions per GiB, a TTL-derived live count and a new window', () => {
    const p = projectCapacity(measured, { sessions: [1000], sessionsPerHour: 7200, windowTurns: 20 });
    // 7200/h × 3600 s / 3600 = 7200 live sessions
    expect(p.projections.map((x) => x.sessions)).toEqual([1000, 7200]);
    const first = p.projections[0]!;
    expect(first.payloadP99Bytes).toBe(1980 * 2 * 1000);
    expect(first.redisBytes).toBe(3000 * 2 * 1000);
    expect(p.sessionsPerGiB!.byRedisUsedMemory).toBe(Math.floor(GIB / 6000));
    expect(p.assumptions.join(' ')).toMatch(/scaled by 20\/10/);
    expect(() => parseResult({ ...makeResult({ durationSec: 10, withFaults: false }).result, capacity: p })).not.toThrow();
  });

  it('CLI: prints the table and writes the projection into result.json and the report', async () => {
    const restore = capture();
    try {
      expect(await capacityCmd([path.join(dir, 'base'), '--sessions', '50000', '--sessions', '2000000'])).toBe(0);
    } finally {
      restore();
    }
    expect(out).toMatch(/50,000/);
    expect(out).toMatch(/2,000,000/);
    const result = parseResult(JSON.parse(await readFile(path.join(dir, 'base', 'result.json'), 'utf8')));
    expect(result.capacity!.projections.map((p) => p.sessions)).toEqual([50_000, 2_000_000]);
    expect(await readFile(path.join(dir, 'base', 'index.html'), 'utf8')).toContain('2,000,000');
  });
});
