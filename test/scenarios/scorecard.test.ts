/**
 * One real scorecard cell per store, as CI runs it: the reference service on redis, valkey and
 * postgres, cross-instance only (its split-brain fault inside a 12 s run), and a short throughput
 * run per pair, through the real binary. The reference service must hold every invariant on every
 * store; the scorecard must carry the fault, the counts, turns/s and the store versions; compare
 * of the scorecard with itself must find nothing changed.
 */
import { readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ScorecardSchema } from '../../src/scorecard/schema.ts';
import { cli } from '../helpers/cli.ts';

const OUT = path.resolve('reports/test-scorecard-cells');

it('scores the reference service on redis, valkey and postgres: every invariant held, the fault and the figures measured', { timeout: 300_000 }, async () => {
  await rm(OUT, { recursive: true, force: true });
  const r = await cli(['scorecard', '--backends', 'reference', '--only', 'cross-instance', '--duration', '12s', '--throughput', '3s', '--out', OUT, '-q'], { timeoutMs: 290_000 });
  expect(r.stderr).toMatch(/\[pair 1\/3, run 1\/6\] reference\/redis · cross-instance · elapsed 0s/);
  expect(r.stderr).toMatch(/\[pair 3\/3, run 6\/6\] reference\/postgres · turns-per-second · elapsed \d+m?\d*s/);
  expect(r.code, r.stdout + r.stderr.slice(-2000)).toBe(0);

  const [dir] = readdirSync(OUT).filter((d) => d.startsWith('scorecard-'));
  const file = path.join(OUT, dir!, 'scorecard.json');
  const sc = ScorecardSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  expect(sc.pairs.map((p) => p.id)).toEqual(['reference/redis', 'reference/valkey', 'reference/postgres']);
  expect(sc.invariants.length).toBeGreaterThan(10);
  for (const row of sc.invariants) for (const p of sc.pairs) expect(row.cells[p.id]?.status, `${p.id} ${row.name}: ${row.cells[p.id]?.reason ?? ''}`).toBe('held');
  for (const p of sc.pairs) {
    expect(p.counts).toEqual({ lostWrites: 0, duplicates: 0, divergences: 0 });
    expect(p.storeVersion, p.id).toBeTruthy();
    expect(p.throughput?.turnsPerSec, p.id).not.toBeNull();
    expect(existsSync(path.join(OUT, dir!, p.runs[0]!.href!)), p.id).toBe(true);
  }
  expect(sc.pairs.find((p) => p.store === 'valkey')!.storeVersion).toMatch(/valkey/i);
  expect(sc.faults.map((f) => f.faultId)).toEqual(['split-brain-i2']);
  for (const p of sc.pairs) expect(sc.faults[0]!.cells[p.id]?.verified, p.id).toBe(true);
  expect(sc.notes.join(' ')).toContain('fsync');
  expect(await readFile(path.join(OUT, dir!, 'scorecard.md'), 'utf8')).toContain('| Invariant | reference/redis | reference/valkey | reference/postgres |');
  expect(existsSync(path.join(OUT, dir!, 'scorecard.html'))).toBe(true);

  const same = await cli(['compare', file, file, '--out', path.join(OUT, 'compare')]);
  expect(same.code).toBe(0);
  expect(same.stdout).toContain('nothing changed');
});
