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
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../../base/errors.ts';
import { hasLoadOverrides } from '../load-overrides.ts';
import { startHistorySink } from '../../record/sink.ts';
import { bundleScript } from '../bundle.ts';
import { readInitExports } from '../init-exports.ts';
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

export async function runK6(opts: RunScriptOptions): Promise<EngineResult> {
  // Real k6 lets nothing outrank a script's own options.scenarios (its --vus/--duration replace them all).
  if (hasLoadOverrides(opts.load)) throw new UsageError('--vus, --duration and --rate rescale each of the scenario\'s executors, which only the built-in engine does; drop them or drop --engine k6');
  const k6 = findK6(opts.k6Path);
  if (!k6) throw new EnvironmentError(`k6 not found (${opts.k6Path ? `--k6 ${opts.k6Path} does not run` : 'not on PATH'}); install k6 or use the built-in engine`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-k6-'));
  const sink = opts.history ? await startHistorySink(opts.history) : undefined;
  const run = new TestRun(opts.env ?? {}, {}, opts.phase, opts.history, {});
  const { totalMs, thresholdOrder } = await planOf(opts);
  const stream = new K6JsonStream(run.registry, (group, name, ok) => run.check(group, name, ok), thresholdOrder);
  try {
    const bundle = await bundleScript(opts.scriptPath, { target: 'k6', outFile: path.join(dir, 'script.js') });
    const out = path.join(dir, 'samples.json');
    const summaryFile = path.join(dir, 'summary.json');
    const env = { ...(opts.env ?? {}), ...(sink ? { STATEPROOF_HISTORY_URL: sink.url } : {}) };
    const args = ['run', '--out', `json=${out}`, '--summary-export', summaryFile];
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    if (opts.vus !== undefined) args.push('--vus', String(opts.vus));
    if (opts.duration !== undefined) args.push('--duration', typeof opts.duration === 'number' ? `${opts.duration}ms` : opts.duration);
    if (opts.iterations !== undefined) args.push('--iterations', String(opts.iterations));
    if (opts.executionSegment !== undefined) args.push('--execution-segment', opts.executionSegment);
    if (opts.executionSegmentSequence !== undefined) args.push('--execution-segment-sequence', opts.executionSegmentSequence);
    args.push(bundle.outFile!);

    run.startMs = nowMs();
    // Its own process group: a terminal's Ctrl-C reaches the harness alone, which passes k6 one
    // SIGINT (two would be k6's hard stop, without its summary). Killed if the harness exits first.
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd(), detached: true });
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
      const p = progressOf(run, totalMs, opts.phase);
      const at = nowMs();
      p.requestsPerSecond = final ? 0 : (p.requests - last.requests) / Math.max(0.001, (at - last.at) / 1000);
      last = { at, requests: p.requests };
      opts.onProgress?.(p);
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
    const rank = (m: string) => (thresholdOrder.includes(m) ? thresholdOrder.indexOf(m) : thresholdOrder.length);
    results.sort((a, b) => rank(a.metric) - rank(b.metric));
    emit(true);
    const summary = buildSummary(run, results, durationMs, EXECUTOR_DEFAULTS.summaryTrendStats, undefined);
    const dropped = (run.registry.metrics.get('dropped_iterations')?.sink as { count?: number } | undefined)?.count ?? 0;
    return {
      engine: 'k6',
      exitCode,
      thresholds: results,
      summary,
      metrics: summary.metrics,
      summaryOutputs: stdout ? { stdout } : {},
      hdr: run.registry.snapshots(),
      droppedIterations: dropped,
      historyEntries: sink?.received ?? 0,
      durationMs,
    };
  } finally {
    await sink?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * From the script's options: the test's planned length as the built-in engine computes it (0 when
 * the options say nothing we can plan) and the order its thresholds are declared in.
 */
async function planOf(opts: RunScriptOptions): Promise<{ totalMs: number; thresholdOrder: string[] }> {
  let options: Record<string, unknown> = {};
  try {
    options = ((await readInitExports(opts.scriptPath, opts.env ?? {}, ['options'])).options ?? {}) as Record<string, unknown>;
  } catch {
    // k6 itself says what is wrong with the script.
  }
  const thresholdOrder = options.thresholds && typeof options.thresholds === 'object' ? Object.keys(options.thresholds) : [];
  try {
    const configs = resolveScenarios(options, {
      vus: opts.vus,
      iterations: opts.iterations,
      durationMs: opts.duration === undefined ? undefined : parseDurationMs(opts.duration, '--duration'),
    });
    return { totalMs: Math.max(0, ...configs.map(plannedDurationMs)), thresholdOrder };
  } catch {
    // Options only k6 understands: the progress line then shows no total.
    return { totalMs: 0, thresholdOrder };
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
