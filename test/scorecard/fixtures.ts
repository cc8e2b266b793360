/** The captured runs (see fixtures/README.md) as the scorecard's aggregation takes them. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEntry } from '../../src/record/history.ts';
import { collectEnvironment } from '../../src/report/build.ts';
import { loadRun } from '../../src/report/load.ts';
import type { PairRuns, ScenarioRun, ScorecardMeta } from '../../src/scorecard/aggregate.ts';
import type { Pair } from '../../src/scorecard/pairs.ts';

export const FIXTURES = path.resolve('test/scorecard/fixtures');
export const PAIRS: Pair[] = [
  { backend: 'reference', store: 'redis' },
  { backend: 'langchain-redis-history', store: 'redis' },
];

export async function capturedRun(pair: Pair, scenario: string, dirFor?: (name: string) => string): Promise<ScenarioRun> {
  const name = `captured-20261202-${pair.backend}-${pair.store}-${scenario}`;
  const { result } = await loadRun(path.join(FIXTURES, name));
  const history = await readFile(path.join(FIXTURES, name, 'history.json'), 'utf8').then((t) => JSON.parse(t) as HistoryEntry[], () => undefined);
  return { scenario, result, dir: dirFor ? dirFor(name) : path.join(FIXTURES, name), ...(history ? { history } : {}) };
}

export async function capturedPairs(dirFor?: (name: string) => string): Promise<PairRuns[]> {
  return Promise.all(
    PAIRS.map(async (pair) => ({
      pair,
      runs: [await capturedRun(pair, 'cross-instance', dirFor), await capturedRun(pair, 'long-session', dirFor)],
      throughput: await capturedRun(pair, 'turns-per-second', dirFor),
    })),
  );
}

export function meta(outDir: string, over: Partial<ScorecardMeta> = {}): ScorecardMeta {
  return {
    command: ['scorecard', '--backends', 'reference,langchain-redis-history', '--stores', 'redis', '--only', 'cross-instance,long-session'],
    profile: 'ci',
    scenarios: ['cross-instance', 'long-session'],
    createdAt: '2026-12-02T01:07:41.000Z',
    outDir,
    repoRoot: path.resolve('.'),
    environment: collectEnvironment(),
    stateproofVersion: '0.1.0',
    skipped: [],
    interrupted: false,
    wallMs: 89_000,
    throughputMethod: '64 connections, 4 s',
    ...over,
  };
}
