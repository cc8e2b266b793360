/**
 * Real k6: `k6 run --out json=<file>` of the k6-target bundle, the JSON stream tailed into the same
 * registry (summary, HDR snapshots), histories from the sink. k6 itself evaluates thresholds
 * (incl. abortOnFail), runs handleSummary and decides the exit code; we report its code.
 * k6 does not expose intended start times, so no "corrected" series come from a k6 run.
 *
 * With runners (--runners N), N k6 processes run, each with k6's own --execution-segment i/N:(i+1)/N
 * and the sequence of all N, as k6-operator's pods do; each stream is tailed into its own registry,
 * and the registries merge exactly (../metrics/transfer.ts) before the thresholds are judged again
 * over the merge (each k6 judged only its segment).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../../base/errors.ts';
import { hasLoadOverrides } from '../load-overrides.ts';
import { startHistorySink, type HistorySinkServer } from '../../record/sink.ts';
import { bundleScript } from '../bundle.ts';
import { exportMetrics, type MetricsState } from '../metrics/transfer.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import { buildSummary } from '../summary.ts';
import { nowMs, TestRun } from '../test-run.ts';
import { parseThresholds, Thresholds } from '../thresholds.ts';
import type { EngineResult, Progress, RunScriptOptions } from '../types.ts';
import { K6JsonStream } from './json-stream.ts';

const TAIL_INTERVAL_MS = 250;

/** The k6 binary to use: `explicit`, else `k6` on PATH; undefined when there is none. */
export function findK6(explicit?: string): string | undefined {
  const candidate = explicit ?? 'k6';
  const r = spawnSync(candidate, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? candidate : undefined;
}

function checkK6(opts: RunScriptOptions): string {
  // Real k6 lets nothing outrank a script's own options.scenarios (its --vus/--duration replace them all).
  if (hasLoadOverrides(opts.load)) throw new UsageError('--vus, --duration and --rate rescale each of the scenario\'s executors, which only the built-in engine does; drop them or drop --engine k6');
  const k6 = findK6(opts.k6Path);
  if (!k6) throw new EnvironmentError(`k6 not found (${opts.k6Path ? `--k6 ${opts.k6Path} does not run` : 'not on PATH'}); install k6 or use the built-in engine`);
  return k6;
}

export async function runK6(opts: RunScriptOptions): Promise<EngineResult> {
  const k6 = checkK6(opts);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-k6-'));
  const sink = opts.history ? await startHistorySink(opts.history) : undefined;
  try {
    const bundle = await bundleScript(opts.scriptPath, { target: 'k6', outFile: path.join(dir, 'script.js') });
    const extraArgs: string[] = [];
    if (opts.executionSegment !== undefined) extraArgs.push('--execution-segment', opts.executionSegment);
    if (opts.executionSegmentSequence !== undefined) extraArgs.push('--execution-segment-sequence', opts.executionSegmentSequence);
    const p = await runK6Process({ k6, opts, script: bundle.outFile!, out: path.join(dir, 'samples.json'), env: { ...(opts.env ?? {}), ...(sink ? sink.runnerEnv() : {}) }, extraArgs, onProgress: opts.onProgress });
    const { run, stream } = p;
    const durationMs = run.elapsedMs;
    const specs = parseThresholds(Object.fromEntries(stream.thresholds));
    const results = new Thresholds(specs, run.registry, new Set()).evaluate(durationMs);
    const summary = buildSummary(run, results, durationMs, EXECUTOR_DEFAULTS.summaryTrendStats, undefined);
    return {
      engine: 'k6',
      exitCode: p.exitCode,
      thresholds: results,
      summary,
      metrics: summary.metrics,
      summaryOutputs: p.stdout ? { stdout: p.stdout } : {},
      hdr: run.registry.snapshots(),
      droppedIterations: dropped(run),
      historyEntries: sink?.received ?? 0,
      durationMs,
    };
  } finally {
    await sink?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface K6RunnerOutcome {
  id: string;
  segment: string;
  exitCode: number;
  state: MetricsState;
  /** k6's options.thresholds as its stream declared them. */
  thresholds: Record<string, unknown>;
}

/** N real k6 processes on their segments, recording into `sink`; one merged state each. */
export async function runK6Runners(opts: RunScriptOptions, sink: HistorySinkServer, segments: string[], sequence: string, log: (line: string) => void): Promise<K6RunnerOutcome[]> {
  const k6 = checkK6(opts);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-k6-'));
  try {
    const bundle = await bundleScript(opts.scriptPath, { target: 'k6', outFile: path.join(dir, 'script.js') });
    log(`stateproof: ${segments.length} k6 runners started (segments ${segments.join(', ')}), recording into run ${sink.runId}`);
    const progress = new Map<string, Progress>();
    return await Promise.all(
      segments.map(async (segment, i) => {
        const id = `runner-${i + 1}`;
        sink.expectRunner(id);
        const p = await runK6Process({
          k6,
          opts,
          script: bundle.outFile!,
          out: path.join(dir, `samples-${i + 1}.json`),
          env: { ...(opts.env ?? {}), ...sink.runnerEnv(), STATEPROOF_RUNNER_ID: id },
          extraArgs: ['--execution-segment', segment, '--execution-segment-sequence', sequence, '--quiet'],
          onProgress: opts.onProgress
            ? (pr) => {
                progress.set(id, pr);
                const all = [...progress.values()];
                opts.onProgress!({ ...pr, requests: all.reduce((a, x) => a + x.requests, 0), iterations: all.reduce((a, x) => a + x.iterations, 0) });
              }
            : undefined,
        });
        const state = exportMetrics(p.run, { durationMs: p.run.elapsedMs, exitCode: p.exitCode, droppedIterations: dropped(p.run) });
        state.counts.requests = count(p.run, 'http_reqs');
        state.counts.iterations = count(p.run, 'iterations');
        return { id, segment, exitCode: p.exitCode, state, thresholds: Object.fromEntries(p.stream.thresholds) };
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface K6Process {
  k6: string;
  opts: RunScriptOptions;
  script: string;
  out: string;
  env: Record<string, string>;
  extraArgs?: string[];
  onProgress?: (p: Progress) => void;
}

async function runK6Process(p: K6Process): Promise<{ exitCode: number; run: TestRun; stream: K6JsonStream; stdout: string }> {
  const { opts, out } = p;
  const run = new TestRun(opts.env ?? {}, {}, opts.phase, opts.history, {});
  const stream = new K6JsonStream(run.registry, (group, name, ok) => run.check(group, name, ok));
  const args = ['run', '--out', `json=${out}`, ...(p.extraArgs ?? [])];
  for (const [k, v] of Object.entries(p.env)) args.push('-e', `${k}=${v}`);
  if (opts.vus !== undefined) args.push('--vus', String(opts.vus));
  if (opts.duration !== undefined) args.push('--duration', typeof opts.duration === 'number' ? `${opts.duration}ms` : opts.duration);
  if (opts.iterations !== undefined) args.push('--iterations', String(opts.iterations));
  args.push(p.script);

  run.startMs = nowMs();
  const child = spawn(p.k6, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const onAbort = () => child.kill('SIGINT');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 105 : 1))));

  // Tail the JSON file while k6 writes it: memory stays flat whatever the run's length.
  let offset = 0;
  const buf = Buffer.alloc(1 << 20);
  const readMore = async () => {
    const fh = await open(out, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        stream.feed(buf.subarray(0, bytesRead).toString('utf8'));
      }
    } finally {
      await fh.close();
    }
  };
  let done = false;
  const tail = (async () => {
    while (!done) {
      await readMore();
      await new Promise((r) => setTimeout(r, TAIL_INTERVAL_MS));
      p.onProgress?.({
        elapsedMs: run.elapsedMs, totalMs: 0, requestsPerSecond: 0,
        requests: count(run, 'http_reqs'),
        errors: 0, p99Ms: run.registry.trend('http_req_duration')?.percentile(99) ?? 0, vusActive: 0,
        iterations: count(run, 'iterations'), droppedIterations: 0,
      });
    }
  })();
  const exitCode = await exited;
  done = true;
  await tail;
  await readMore();
  stream.end();
  opts.signal?.removeEventListener('abort', onAbort);
  return { exitCode, run, stream, stdout };
}

const count = (run: TestRun, metric: string): number => (run.registry.metrics.get(metric)?.sink as { count?: number } | undefined)?.count ?? 0;
const dropped = (run: TestRun): number => count(run, 'dropped_iterations');
