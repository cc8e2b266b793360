/**
 * Real k6: `k6 run --out json=<file>` of the k6-target bundle, the JSON stream tailed into the same
 * registry (summary, HDR snapshots), histories from the loopback sink. k6 itself evaluates
 * thresholds (incl. abortOnFail), runs handleSummary and decides the exit code; we report its code.
 * k6 does not expose intended start times, so no "corrected" series come from a k6 run.
 *
 * Thresholds: which ones passed is k6's word, read from its --summary-export (the JSON output
 * never carries a submetric's thresholds, e.g. `http_req_failed{op:read}`, since no point is
 * written under a submetric's name); the observed value beside each is evaluated on the streamed
 * samples, as the built-in engine evaluates it. Progress is emitted once a second with the same
 * fields as the built-in engine's, its planned length read from the script's options.
 *
 * With runners (--runners N), N k6 processes run, each with k6's own --execution-segment i/N:(i+1)/N
 * and the sequence of all N, as k6-operator's pods do; each stream is tailed into its own registry,
 * and the registries merge exactly (../metrics/transfer.ts) before the thresholds are judged again
 * over the merge (each k6 judged only its segment).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../../base/errors.ts';
import { hasLoadOverrides } from '../load-overrides.ts';
import { startHistorySink, type HistorySinkServer } from '../../record/sink.ts';
import { bundleScript } from '../bundle.ts';
import { readInitExports } from '../init-exports.ts';
import { exportMetrics, type MetricsState } from '../metrics/transfer.ts';
import { EXECUTOR_DEFAULTS, plannedDurationMs, resolveScenarios } from '../options.ts';
import { parseDurationMs } from '../duration.ts';
import { buildSummary } from '../summary.ts';
import { nowMs, TestRun } from '../test-run.ts';
import { parseThresholds, Thresholds, type ThresholdResult } from '../thresholds.ts';
import type { EngineResult, Progress, RunScriptOptions } from '../types.ts';
import type { CounterSink, GaugeSink, RateSink } from '../metrics/sinks.ts';
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
  const plan = await planOf(opts);
  try {
    const bundle = await bundleScript(opts.scriptPath, { target: 'k6', outFile: path.join(dir, 'script.js') });
    const summaryFile = path.join(dir, 'summary.json');
    const extraArgs = ['--summary-export', summaryFile];
    if (opts.executionSegment !== undefined) extraArgs.push('--execution-segment', opts.executionSegment);
    if (opts.executionSegmentSequence !== undefined) extraArgs.push('--execution-segment-sequence', opts.executionSegmentSequence);
    const p = await runK6Process({ k6, opts, plan, script: bundle.outFile!, out: path.join(dir, 'samples.json'), env: { ...(opts.env ?? {}), ...(sink ? sink.runnerEnv() : {}) }, extraArgs, onProgress: opts.onProgress });
    const { run, stream } = p;
    const durationMs = run.elapsedMs;
    const k6Verdicts = await readSummaryThresholds(summaryFile);
    const declared = k6Verdicts ? groupBySource(k6Verdicts) : Object.fromEntries(stream.thresholds);
    const evaluated = new Thresholds(parseThresholds(declared), run.registry, new Set()).evaluate(durationMs);
    // k6 decided which passed; our evaluation of the same samples supplies the observed value.
    const results: ThresholdResult[] = evaluated.map((t) => {
      const failed = k6Verdicts?.find((v) => v.metric === t.metric && v.source === t.source)?.failed;
      return failed === undefined ? t : { ...t, ok: !failed };
    });
    // In the script's order, as the built-in engine lists them (k6's export is sorted by name).
    const rank = (m: string) => (plan.thresholdOrder.includes(m) ? plan.thresholdOrder.indexOf(m) : plan.thresholdOrder.length);
    results.sort((a, b) => rank(a.metric) - rank(b.metric));
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
    const plan = await planOf(opts);
    log(`stateproof: ${segments.length} k6 runners started (segments ${segments.join(', ')}), recording into run ${sink.runId}`);
    const progress = new Map<string, Progress>();
    return await Promise.all(
      segments.map(async (segment, i) => {
        const id = `runner-${i + 1}`;
        sink.expectRunner(id);
        const p = await runK6Process({
          k6,
          opts,
          plan,
          script: bundle.outFile!,
          out: path.join(dir, `samples-${i + 1}.json`),
          env: { ...(opts.env ?? {}), ...sink.runnerEnv(), STATEPROOF_RUNNER_ID: id },
          extraArgs: ['--execution-segment', segment, '--execution-segment-sequence', sequence, '--quiet'],
          onProgress: opts.onProgress
            ? (pr) => {
                progress.set(id, pr);
                const all = [...progress.values()];
                const sum = (f: (x: Progress) => number) => all.reduce((a, x) => a + f(x), 0);
                opts.onProgress!({ ...pr, requests: sum((x) => x.requests), iterations: sum((x) => x.iterations), requestsPerSecond: sum((x) => x.requestsPerSecond), errors: sum((x) => x.errors), vusActive: sum((x) => x.vusActive), droppedIterations: sum((x) => x.droppedIterations) });
              }
            : undefined,
        });
        const state = exportMetrics(p.run, { durationMs: p.run.elapsedMs, exitCode: p.exitCode, droppedIterations: dropped(p.run) });
        state.counts.requests = count(p.run, 'http_reqs');
        state.counts.iterations = count(p.run, 'iterations');
        return { id, segment, exitCode: p.exitCode, state, thresholds: plan.thresholds ?? Object.fromEntries(p.stream.thresholds) };
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface K6Plan {
  totalMs: number;
  thresholdOrder: string[];
  /** The script's options.thresholds as declared, submetrics included (k6's JSON stream omits those). */
  thresholds?: Record<string, unknown>;
}

interface K6Process {
  k6: string;
  opts: RunScriptOptions;
  plan: K6Plan;
  script: string;
  out: string;
  env: Record<string, string>;
  extraArgs?: string[];
  onProgress?: (p: Progress) => void;
}

async function runK6Process(p: K6Process): Promise<{ exitCode: number; run: TestRun; stream: K6JsonStream; stdout: string }> {
  const { opts, out, plan } = p;
  const run = new TestRun(opts.env ?? {}, {}, opts.phase, opts.history, {});
  const stream = new K6JsonStream(run.registry, (group, name, ok) => run.check(group, name, ok), plan.thresholdOrder);
  const args = ['run', '--out', `json=${out}`, ...(p.extraArgs ?? [])];
  for (const [k, v] of Object.entries(p.env)) args.push('-e', `${k}=${v}`);
  if (opts.vus !== undefined) args.push('--vus', String(opts.vus));
  if (opts.duration !== undefined) args.push('--duration', typeof opts.duration === 'number' ? `${opts.duration}ms` : opts.duration);
  if (opts.iterations !== undefined) args.push('--iterations', String(opts.iterations));
  args.push(p.script);

  run.startMs = nowMs();
  // Its own process group: a terminal's Ctrl-C reaches the harness alone, which passes k6 one
  // SIGINT (two would be k6's hard stop, without its summary). Killed if the harness exits first.
  const child = spawn(p.k6, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd(), detached: true });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const onAbort = () => child.kill('SIGINT');
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 105 : 1))));

  // Tail the JSON file while k6 writes it: memory stays flat whatever the run's length.
  let offset = 0;
  let firstSample = false;
  const buf = Buffer.alloc(1 << 20);
  const readMore = async () => {
    const fh = await open(out, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        // k6's test starts with its first sample, not at the spawn (k6's init takes a second or so).
        if (!firstSample) run.startMs = nowMs();
        firstSample = true;
        offset += bytesRead;
        stream.feed(buf.subarray(0, bytesRead).toString('utf8'));
      }
    } finally {
      await fh.close();
    }
  };
  let done = false;
  const progressEveryMs = opts.progressIntervalMs ?? 1000;
  let last = { at: nowMs(), requests: 0 };
  const emit = (final: boolean) => {
    const pr = progressOf(run, plan.totalMs, opts.phase);
    const at = nowMs();
    pr.requestsPerSecond = final ? 0 : (pr.requests - last.requests) / Math.max(0.001, (at - last.at) / 1000);
    last = { at, requests: pr.requests };
    p.onProgress?.(pr);
  };
  const tail = (async () => {
    while (!done) {
      await readMore();
      await new Promise((r) => setTimeout(r, TAIL_INTERVAL_MS));
      if (nowMs() - last.at >= progressEveryMs) emit(false);
    }
  })();
  const exitCode = await exited;
  done = true;
  await tail;
  await readMore();
  stream.end();
  opts.signal?.removeEventListener('abort', onAbort);
  emit(true);
  return { exitCode, run, stream, stdout };
}

const count = (run: TestRun, metric: string): number => (run.registry.metrics.get(metric)?.sink as { count?: number } | undefined)?.count ?? 0;
const dropped = (run: TestRun): number => count(run, 'dropped_iterations');

/**
 * From the script's options: the test's planned length as the built-in engine computes it (0 when
 * the options say nothing we can plan) and the order its thresholds are declared in.
 */
async function planOf(opts: RunScriptOptions): Promise<K6Plan> {
  let options: Record<string, unknown> = {};
  try {
    options = ((await readInitExports(opts.scriptPath, opts.env ?? {}, ['options'])).options ?? {}) as Record<string, unknown>;
  } catch {
    // k6 itself says what is wrong with the script.
  }
  const declared = options.thresholds && typeof options.thresholds === 'object' ? (options.thresholds as Record<string, unknown>) : undefined;
  const thresholdOrder = declared ? Object.keys(declared) : [];
  try {
    const configs = resolveScenarios(options, {
      vus: opts.vus,
      iterations: opts.iterations,
      durationMs: opts.duration === undefined ? undefined : parseDurationMs(opts.duration, '--duration'),
    });
    return { totalMs: Math.max(0, ...configs.map(plannedDurationMs)), thresholdOrder, ...(declared ? { thresholds: declared } : {}) };
  } catch {
    // Options only k6 understands: the progress line then shows no total.
    return { totalMs: 0, thresholdOrder, ...(declared ? { thresholds: declared } : {}) };
  }
}

function progressOf(run: TestRun, totalMs: number, phase: RunScriptOptions['phase']): Progress {
  const sink = <T>(name: string) => run.registry.metrics.get(name)?.sink as T | undefined;
  const label = phase?.();
  return {
    elapsedMs: run.elapsedMs,
    totalMs,
    requestsPerSecond: 0,
    requests: sink<CounterSink>('http_reqs')?.count ?? 0,
    errors: sink<RateSink>('http_req_failed')?.passes ?? 0,
    p99Ms: run.registry.trend('http_req_duration')?.percentile(99) ?? 0,
    vusActive: sink<GaugeSink>('vus')?.value ?? 0,
    iterations: sink<CounterSink>('iterations')?.count ?? 0,
    droppedIterations: sink<CounterSink>('dropped_iterations')?.count ?? 0,
    ...(label !== undefined ? { phase: label } : {}),
  };
}

interface K6ThresholdVerdict {
  metric: string;
  source: string;
  failed: boolean;
}

/**
 * k6's own threshold verdicts from --summary-export: `metrics[name].thresholds[source]` is true
 * when the threshold failed. Undefined when k6 wrote no summary (it died before its end).
 */
async function readSummaryThresholds(file: string): Promise<K6ThresholdVerdict[] | undefined> {
  let parsed: { metrics?: Record<string, { thresholds?: Record<string, unknown> }> };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const out: K6ThresholdVerdict[] = [];
  for (const [metric, m] of Object.entries(parsed.metrics ?? {})) {
    for (const [source, failed] of Object.entries(m?.thresholds ?? {})) out.push({ metric, source, failed: failed === true });
  }
  return out;
}

function groupBySource(verdicts: readonly K6ThresholdVerdict[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of verdicts) (out[v.metric] ??= []).push(v.source);
  return out;
}
