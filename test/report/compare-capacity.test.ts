import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as capacityCmd } from '../../src/cli/commands/capacity.ts';
import { run as compareCmd } from '../../src/cli/commands/compare.ts';
import { GIB, measureCapacity, memoryBreakdown, projectCapacity, provisionAdvice } from '../../src/report/capacity.ts';
import { compareResults } from '../../src/report/compare.ts';
import { regressionText, renderCompareText } from '../../src/report/compare-render.ts';
import type { RunResult } from '../../src/report/result-schema.ts';
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
    expect(compareResults([a, b]).regressions.map(regressionText).join('\n')).toMatch(/invariants no-lost-writes holds → VIOLATED; threshold: held in the baseline/);
  });

  it('gates p99 on a ci-length run, from the interval its sample count gives, and lists before → after and the threshold', () => {
    const a = makeResult({ seed: 11 }).result;
    const slow = makeResult({ seed: 13, extraLatencyMs: 50 }).result;
    const c = compareResults([a, slow]);
    const p99 = c.rows.find((r) => r.label === 'all ops · whole run p99')!;
    expect(p99.gated).toBe(true);
    expect(p99.marks).toEqual(['baseline', 'worse']);
    const b = p99.bounds![0]!;
    expect(b.low).toBeLessThanOrEqual(p99.values[0] as number);
    expect(b.high).toBeGreaterThanOrEqual(p99.values[0] as number);
    const line = c.regressions.map(regressionText).find((t) => t.includes('all ops · whole run p99'))!;
    expect(line).toMatch(/p99 \d+ ms → \d+ ms \(\+\d+\.\d%\); threshold: worse by more than [\d.]+ ms \(10 %, floor 1 ms\) and above the baseline's 99 % interval \([\d.]+ ms–[\d.]+ ms\)/);
    // p50 moved too, but it is context, and says so.
    const p50 = c.rows.find((r) => r.label === 'all ops · whole run p50')!;
    expect(p50.gated).toBe(false);
    expect(p50.whyNotGated).toMatch(/gate is on p99/);
    expect(c.regressions.some((r) => r.label.endsWith('p50'))).toBe(false);
  });

  it('does not gate a p99 with too few samples to bound it, and says why', () => {
    const c = compareResults([makeResult({ seed: 11 }).result, makeResult({ seed: 12 }).result]);
    const thin = c.rows.find((r) => r.label === 'read · during redis-slow p99')!;
    expect(thin.gated).toBe(false);
    expect(thin.whyNotGated).toMatch(/too few samples to bound p99 \(.* has \d+, .* has \d+; a 99 % interval needs ≥ 530\)/);
  });

  it('marks an error rate that rose as worse (a regression) and one that fell as better', () => {
    const a = makeResult({ seed: 11 }).result;
    const worse = withErrors(makeResult({ seed: 12 }).result, 0.4);
    const c = compareResults([a, worse]);
    const row = c.rows.find((r) => r.label === 'error rate')!;
    expect(row.marks).toEqual(['baseline', 'worse']);
    const text = renderCompareText(c);
    expect(text).toMatch(/error rate +10\.0% +40\.0% \(\+\d+\.\d%\) WORSE/);
    expect(text).toMatch(/regression.*:\n.*load error rate 10\.0% → 40\.0%.*threshold: worse by more than 1\.00 percentage points/s);
    expect(text).not.toMatch(/No regressions/);
    expect(compareResults([worse, a]).rows.find((r) => r.label === 'error rate')!.marks).toEqual(['baseline', 'better']);
  });

  it('marks a slower recovery: worse where operations are dense enough to see it, noise (with the reason) where they are not', () => {
    const a = withRecovery(makeResult({ seed: 11 }).result, 9);
    const b = withRecovery(makeResult({ seed: 12 }).result, 20);
    // 40 operations a second: one every 25 ms, so 9 ms → 20 ms is inside one gap.
    const sparse = compareResults([a, b]);
    const row = sparse.rows.find((r) => r.label === 'time to recover · redis-down')!;
    expect(row.marks).toEqual(['baseline', 'noise']);
    const text = renderCompareText(sparse);
    expect(text).toMatch(/time to recover · redis-down +9 ms +20 ms \(\+122\.2%\) ~noise/);
    expect(text).toMatch(/within one operation gap \(25\.0 ms/);
    // 2,000 operations a second: a 0.5 ms gap, so the same 11 ms is a regression.
    const dense = compareResults([atRate(a, 2000), atRate(b, 2000)]);
    expect(dense.rows.find((r) => r.label === 'time to recover · redis-down')!.marks).toEqual(['baseline', 'worse']);
    expect(dense.regressions.map(regressionText).join('\n')).toMatch(/time to recover · redis-down 9 ms → 20 ms \(\+122\.2%\); threshold: worse by more than 1\.00 ms/);
    expect(renderCompareText(dense)).not.toMatch(/No regressions/);
  });

  it('CLI: exits 1 with --fail-on-regression only when there is one, and writes md + html', async () => {
    const restore = capture();
    try {
      expect(await compareCmd([path.join(dir, 'same'), '--baseline', path.join(dir, 'base'), '--fail-on-regression', '--out', path.join(dir, 'cmp1')])).toBe(0);
      expect(out).toMatch(/No regressions against/);
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

function withErrors(r: RunResult, rate: number): RunResult {
  const count = r.metrics.totals.count;
  const bad = Math.round(count * rate);
  return { ...r, metrics: { ...r.metrics, errorRate: bad / count, totals: { ...r.metrics.totals, fail: bad, unknown: 0, ok: count - bad } } };
}
function withRecovery(r: RunResult, ms: number): RunResult {
  return { ...r, faults: r.faults.map((f) => ({ ...f, timeToRecoverMs: ms, recovered: true })) };
}
function atRate(r: RunResult, perSec: number): RunResult {
  return { ...r, metrics: { ...r.metrics, throughputPerSec: perSec } };
}

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
    const p = projectCapacity(measured, { sessions: [1000], sessionsPerHour: 7200, windowTurns: 20, ttlSeconds: 3600 });
    // 7200/h × 3600 s / 3600 = 7200 live sessions
    expect(p.projections.map((x) => x.sessions)).toEqual([1000, 7200]);
    const first = p.projections[0]!;
    expect(first.payloadP99Bytes).toBe(1980 * 2 * 1000);
    expect(first.redisBytes).toBe(3000 * 2 * 1000);
    expect(p.sessionsPerGiB!.byRedisUsedMemory).toBe(Math.floor(GIB / 6000));
    expect(p.assumptions.join(' ')).toMatch(/scaled by 20\/10/);
    expect(() => parseResult({ ...makeResult({ durationSec: 10, withFaults: false }).result, capacity: p })).not.toThrow();
  });

  it('never projects an arrival rate with the scenario\'s test TTL; a TTL the backend declares will do', () => {
    expect(() => projectCapacity(measured, { sessionsPerHour: 7200 })).toThrow(/production TTL/);
    const declared = { ...measured, settings: { ...measured.settings, declaredTtlSeconds: 1800 } };
    const p = projectCapacity(declared, { sessionsPerHour: 7200 });
    expect(p.projections.map((x) => x.sessions)).toEqual([3600]);
    expect(p.assumptions.join(' ')).toMatch(/TTL 1800 s \(the backend's declared TTL\)/);
    expect(projectCapacity(declared, { sessionsPerHour: 7200, ttlSeconds: 60 }).projections.map((x) => x.sessions)).toEqual([120]);
  });

  it('splits used_memory by key kind and says to provision by used_memory', () => {
    const c = measureCapacity({
      bytesPerSession: Array.from({ length: 100 }, () => 2600),
      usedMemoryBaselineBytes: 1_000_000,
      usedMemoryEndBytes: 1_000_000 + 100 * 30_000,
      keyMemory: [
        { kind: 'state', keys: 100, sampledKeys: 100, bytes: 100 * 2_700 },
        { kind: 'turn-id index', keys: 100, sampledKeys: 100, bytes: 100 * 25_000 },
      ],
      settings: { windowTurns: 10, ttlSeconds: 5 },
    });
    const parts = memoryBreakdown(c)!;
    expect(parts.map((p) => [p.kind, Math.round(p.perSessionBytes)])).toEqual([['state', 2700], ['turn-id index', 25_000], ['not in any key (Redis overhead)', 2300]]);
    expect(parts.reduce((a, p) => a + p.share!, 0)).toBeCloseTo(1, 6);
    expect(provisionAdvice(c)).toMatch(/Provision by Redis used_memory per session \(29\.3 KiB\), not by payload.*11\.5× the payload p99.*turn-id index alone is 83 %/);
    expect(provisionAdvice(c)).not.toMatch(/in no key/);
    // Few sessions, most of the growth in no key: the advice says the figure is an upper bound.
    const few = measureCapacity({
      bytesPerSession: Array.from({ length: 8 }, () => 7000),
      usedMemoryBaselineBytes: 1_000_000,
      usedMemoryEndBytes: 1_000_000 + 8 * 60_000,
      keyMemory: [
        { kind: 'state', keys: 8, sampledKeys: 8, bytes: 8 * 7_250 },
        { kind: 'turn-id index', keys: 8, sampledKeys: 8, bytes: 8 * 13_400 },
      ],
      settings: { windowTurns: 10, ttlSeconds: 5 },
    });
    expect(provisionAdvice(few)).toMatch(/66 % of the used_memory growth is in no key.*over 8 sessions.*between the keys' 20\.2 KiB and 58\.6 KiB/);
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
