/**
 * Running a scorecard: every scenario of the selection, then the short throughput run, for each
 * backend × store pair in turn, one run at a time (runs share the machine; in parallel they would
 * measure each other). Each run writes its own report under <scorecard>/<backend>-<store>/;
 * scorecard.json, .md and .html are written at the end, also after Ctrl-C (with what ran).
 *
 *   pairs ─▶ for each: scenarios ─▶ runScenario ─▶ result.json (+ history.json for growth)
 *                      throughput ─▶ runScenario(turns-per-second) ─▶ result.json
 *        ─▶ buildScorecard ─▶ scorecard.json, scorecard.md, scorecard.html
 *
 * A run that cannot start (a store binary missing, a library that throws at start-up) is a
 * finding of that pair, recorded with its message; the other pairs still run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserError } from '../base/errors.ts';
import type { LoadOverrides } from '../engine/load-overrides.ts';
import type { HistoryEntry } from '../record/history.ts';
import { collectEnvironment } from '../report/build.ts';
import { HISTORY_FILE } from '../report/write.ts';
import { adapterOf, adapterRunRefusal } from '../run/adapter-run.ts';
import { loadSpec } from '../run/load-spec.ts';
import { runScenario } from '../run/run-scenario.ts';
import { resolveScenario } from '../run/scenarios.ts';
import type { LiveProgress, RunOptions } from '../run/run-options.ts';
import { buildScorecard, GROWTH_SCENARIO, THROUGHPUT_CONNECTIONS, type PairRuns, type ScenarioRun } from './aggregate.ts';
import { pairId, type Pair, type SkippedPair } from './pairs.ts';
import { renderScorecardHtml } from './render-html.ts';
import { renderScorecardMd } from './render-md.ts';
import { SCORECARD_FILE, type Scorecard } from './schema.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const THROUGHPUT_SCRIPT = path.join(REPO_ROOT, 'scenarios/bench/turns-per-second.ts');
export const THROUGHPUT_LABEL = 'turns-per-second';
export const THROUGHPUT_DEFAULT_MS = { ci: 10_000, full: 30_000 } as const;

export interface ScorecardRunOptions {
  pairs: readonly Pair[];
  skipped: readonly SkippedPair[];
  scenarios: readonly string[];
  profile: 'ci' | 'full';
  /** The scorecard's own directory. */
  dir: string;
  command: string[];
  load?: LoadOverrides;
  /** Length of the throughput run per pair; null: not measured. */
  throughputMs: number | null;
  seed?: number;
  engine?: 'builtin' | 'k6';
  k6Path?: string;
  signal?: AbortSignal;
  /** What the run needs to start this pair's backend (the adapter behind the fault proxy). */
  backendOptions: (pair: Pair) => Partial<RunOptions>;
  /** One line per stage (pair i of n, scenario, elapsed). */
  onStage?: (line: string) => void;
  /** Live progress of the current run, labelled. */
  onRunProgress?: (label: string) => { update(p: LiveProgress): void; done(): void } | undefined;
  /** Logs of the runs (topology start, checks). */
  log?: (line: string) => void;
  stateproofVersion: string;
}

export interface ScorecardOutcome {
  scorecard: Scorecard;
  files: { json: string; md: string; html: string };
  /** The first error that was not a user's (a harness bug), rethrown by the caller after the files are written. */
  harnessError?: unknown;
}

const elapsed = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export async function runScorecard(o: ScorecardRunOptions): Promise<ScorecardOutcome> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0]!;
  const createdAt = new Date(started).toISOString();
  await mkdir(o.dir, { recursive: true });
  const perPair = o.scenarios.length + (o.throughputMs === null ? 0 : 1);
  const total = o.pairs.length * perPair;
  let step = 0;
  let harnessError: unknown;
  const all: PairRuns[] = [];

  /** One run; `scenario` is a built-in name or a script path, `label` what the scorecard calls it. */
  const runOne = async (pair: Pair, label: string, overrides: Partial<RunOptions> & { scenario: string }): Promise<ScenarioRun> => {
    step++;
    if (o.signal?.aborted) return { scenario: label, error: 'interrupted' };
    o.onStage?.(`[pair ${o.pairs.indexOf(pair) + 1}/${o.pairs.length}, run ${step}/${total}] ${pairId(pair)} · ${label} · elapsed ${elapsed(Date.now() - started)}`);
    const t0 = Date.now();
    const options: RunOptions = {
      profile: o.profile,
      store: pair.store,
      engine: o.engine,
      k6Path: o.k6Path,
      seed: o.seed,
      load: o.load,
      outDir: path.join(o.dir, `${pair.backend}-${pair.store}`),
      signal: o.signal,
      ...(o.log ? { log: o.log } : {}),
      ...o.backendOptions(pair),
      ...overrides,
    };
    const refused = await refusalOf(options);
    if (refused) {
      o.onStage?.(`  n/a   ${pairId(pair)} ${label}: ${refused}`);
      return { scenario: label, refused };
    }
    const progress = o.onRunProgress?.(`${pairId(pair)} ${label}`);
    try {
      const outcome = await runScenario({ ...options, ...(progress ? { onProgress: (p: LiveProgress) => progress.update(p) } : {}) });
      progress?.done();
      const run: ScenarioRun = { scenario: label, dir: outcome.runDir, result: outcome.result, wallMs: Date.now() - t0 };
      if (label === GROWTH_SCENARIO) run.history = await readHistory(outcome.runDir);
      const v = outcome.result.verdict;
      o.onStage?.(`  ${v.pass ? 'PASS' : 'FAIL'}  ${pairId(pair)} ${label} in ${elapsed(run.wallMs!)}${v.pass ? '' : `: ${v.reasons.slice(0, 3).join('; ')}${v.reasons.length > 3 ? ` (+${v.reasons.length - 3})` : ''}`}`);
      return run;
    } catch (e) {
      progress?.done();
      // Ctrl-C while a topology starts ends its processes: what fails then is the interruption.
      if (o.signal?.aborted) return { scenario: label, error: 'interrupted', wallMs: Date.now() - t0 };
      if (!isUserError(e)) harnessError ??= e;
      // A harness bug's message may be many lines (a ZodError's is JSON starting "["): one line of it.
      const message = isUserError(e)
        ? ((e as Error).message.split('\n')[0] ?? String(e))
        : `stateproof itself failed (${(e as Error)?.name ?? 'Error'}: ${String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim().slice(0, 300)})`;
      o.onStage?.(`  NOT RUN  ${pairId(pair)} ${label}: ${message}`);
      return { scenario: label, error: message, wallMs: Date.now() - t0 };
    }
  };

  for (const pair of o.pairs) {
    const runs: ScenarioRun[] = [];
    for (const scenario of o.scenarios) runs.push(await runOne(pair, scenario, { scenario }));
    const entry: PairRuns = { pair, runs };
    if (o.throughputMs !== null) {
      entry.throughput = await runOne(pair, THROUGHPUT_LABEL, {
        scenario: THROUGHPUT_SCRIPT,
        load: { durationMs: o.throughputMs },
        env: { STATEPROOF_CONNECTIONS: String(THROUGHPUT_CONNECTIONS) },
      });
    }
    all.push(entry);
  }

  const environment = collectEnvironment({ cwd: REPO_ROOT });
  const scorecard = buildScorecard(all, {
    command: o.command,
    profile: o.profile,
    scenarios: [...o.scenarios],
    createdAt,
    outDir: o.dir,
    repoRoot: REPO_ROOT,
    environment,
    loadAverage: { start: round2(loadAtStart), end: round2(os.loadavg()[0]!) },
    stateproofVersion: o.stateproofVersion,
    skipped: [...o.skipped],
    interrupted: o.signal?.aborted ?? false,
    wallMs: Date.now() - started,
    throughputMethod:
      o.throughputMs === null
        ? null
        : `Acknowledged turns per second, measured by this scorecard (not by the suite, which has no fault-free phase at this concurrency): ${THROUGHPUT_CONNECTIONS} VUs of the built-in engine, one keep-alive connection each, append 200-byte turns with no think time for ${Math.round(o.throughputMs / 1000)} s (a VU answered 503 waits the contract's Retry-After, 1 s) through the router and fault proxy (no faults), one backend instance, each VU on its own sessions (no contention); the first and last second are left out. Load generator and backend share this machine (${environment.cpus} CPUs, ${environment.cpuModel ?? environment.arch}; 1-minute load average ${round2(loadAtStart)} at the start).`,
    notes: o.profile === 'ci' && o.pairs.some((p) => p.store === 'postgres') ? ['Postgres runs with fsync and full_page_writes off in the ci profile (fast start); the full profile keeps them on.'] : [],
  });
  const files = { json: path.join(o.dir, SCORECARD_FILE), md: path.join(o.dir, 'scorecard.md'), html: path.join(o.dir, 'scorecard.html') };
  await writeFile(files.json, JSON.stringify(scorecard, null, 2) + '\n');
  await writeFile(files.md, renderScorecardMd(scorecard));
  await writeFile(files.html, renderScorecardHtml(scorecard));
  return { scorecard, files, ...(harnessError !== undefined ? { harnessError } : {}) };
}

/** Why an adapter cannot run this scenario at all (it needs the reference service's internals), or undefined. */
async function refusalOf(options: RunOptions): Promise<string | undefined> {
  const adapter = adapterOf(options.adapter);
  const spec = await loadSpec(resolveScenario(options.scenario).scriptPath, { STATEPROOF_PROFILE: options.profile ?? 'ci', STATEPROOF_STORE: options.store ?? adapter?.stores[0] ?? 'redis', ...options.env });
  // A cluster scenario's faults (slot moves, a shard's failover) exist only on a cluster: on a
  // one-node store it is not applicable, said so, rather than started to fail on its fault plan.
  const wants = spec?.topology?.store;
  const cluster = (s: string | undefined) => s === 'redis-cluster' || s === 'valkey-cluster';
  if (options.store && cluster(wants) && !cluster(options.store)) {
    return `${options.scenario} needs a Redis or Valkey Cluster (its faults move slots and fail over shards); this pair's store is ${options.store}`;
  }
  return adapter ? adapterRunRefusal(adapter, spec) : undefined;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function readHistory(runDir: string): Promise<HistoryEntry[] | undefined> {
  const text = await readFile(path.join(runDir, HISTORY_FILE), 'utf8').catch(() => null);
  if (text === null) return undefined;
  return JSON.parse(text) as HistoryEntry[];
}
