/**
 * The real binary: bad input to `scorecard` is one line with a suggestion and exit 2, before
 * anything starts; `compare` of two scorecards marks what changed.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildScorecard } from '../../src/scorecard/aggregate.ts';
import type { Scorecard } from '../../src/scorecard/schema.ts';
import { cli } from '../helpers/cli.ts';
import { capturedPairs, meta } from './fixtures.ts';

const OUT = path.resolve('reports/test-scorecard-cli');

describe('stateproof scorecard: bad input', () => {
  const oneLine = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it('names an unknown backend, with the nearest name', async () => {
    const r = await cli(['scorecard', '--backends', 'reference,langgraph-postgre']);
    oneLine(r);
    expect(r.stderr).toContain("--backends: unknown backend 'langgraph-postgre'");
    expect(r.stderr).toContain("Did you mean 'langgraph-postgres'?");
  });

  it('names an unknown store, with the nearest name', async () => {
    const r = await cli(['scorecard', '--stores', 'valky']);
    oneLine(r);
    expect(r.stderr).toContain("--stores: unknown store 'valky'; stores: redis, valkey, postgres, redis-cluster, valkey-cluster. Did you mean 'valkey'?");
  });

  it('refuses a selection with nothing left to run, and says what each backend supports', async () => {
    const r = await cli(['scorecard', '--backends', 'langgraph-postgres,mastra-postgres', '--stores', 'valkey']);
    oneLine(r);
    expect(r.stderr).toContain('nothing to run: langgraph-postgres/valkey');
    expect(r.stderr).toContain('langgraph-postgres: postgres; mastra-postgres: postgres');
  });

  it('refuses an empty list and an unknown scenario', async () => {
    oneLine(await cli(['scorecard', '--backends', ',']));
    const r = await cli(['scorecard', '--only', 'cross-instanse']);
    oneLine(r);
    expect(r.stderr).toContain("Did you mean 'cross-instance'?");
  });
});

describe('stateproof compare of two scorecards', () => {
  let a: Scorecard;
  const aFile = path.join(OUT, 'a', 'scorecard.json');
  const bFile = path.join(OUT, 'b', 'scorecard.json');
  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    a = buildScorecard(await capturedPairs(), meta(path.join(OUT, 'a')));
    await mkdir(path.dirname(aFile), { recursive: true });
    await writeFile(aFile, JSON.stringify(a, null, 2));
  });

  it('says nothing changed for the same scorecard', async () => {
    const r = await cli(['compare', aFile, path.dirname(aFile), '--out', path.join(OUT, 'same'), '--fail-on-regression']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing changed');
  });

  it('marks a flipped cell, a count that moved and a figure that moved, and gates on them', async () => {
    const b: Scorecard = JSON.parse(JSON.stringify(a));
    const ref = 'reference/redis';
    const lost = b.invariants.find((r) => r.name === 'no-lost-writes')!;
    lost.cells[ref] = { ...lost.cells[ref]!, status: 'violated', count: 3 };
    b.pairs.find((p) => p.id === ref)!.counts.lostWrites = 3;
    const lc = b.pairs.find((p) => p.id === 'langchain-redis-history/redis')!;
    lc.throughput!.turnsPerSec = lc.throughput!.turnsPerSec! * 2;
    await mkdir(path.dirname(bFile), { recursive: true });
    await writeFile(bFile, JSON.stringify(b, null, 2));

    const r = await cli(['compare', aFile, bFile, '--fail-on-regression']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Cells that flipped:\n\s+WORSE reference\/redis\s+no-lost-writes: held → VIOLATED ×3/);
    expect(r.stdout).toMatch(/Counts that moved:\n\s+WORSE reference\/redis\s+lost acknowledged writes: 0 → 3/);
    expect(r.stdout).toMatch(/Figures that moved \(beyond 10 %\):\n\s+langchain-redis-history\/redis\s+turns\/s without faults/);
    const md = await readFile(path.join(OUT, 'b', 'compare-scorecards.md'), 'utf8');
    expect(md).toContain('| **worse** cells that flipped | reference/redis | no-lost-writes | held | VIOLATED ×3 |');

    const json = await cli(['compare', aFile, bFile, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).changes.filter((c: { worse: boolean }) => c.worse)).toHaveLength(2);
  });

  it('refuses a scorecard beside a run, and a file that is not a scorecard', async () => {
    const mixed = await cli(['compare', aFile, 'test/scorecard/fixtures/captured-20261202-reference-redis-cross-instance']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('compare takes runs or scorecards, not both');
    const bad = path.join(OUT, 'bad', 'scorecard.json');
    await mkdir(path.dirname(bad), { recursive: true });
    await writeFile(bad, JSON.stringify({ kind: 'stateproof-scorecard', schemaVersion: 1 }));
    const r = await cli(['compare', aFile, bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a scorecard (v1)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
