/**
 * The built-in engine: runs a k6 script in this process with k6's semantics.
 *
 *   bundle (node) ─> Script ─> VU 0: init, options ─> thresholds, scenarios
 *                            ─> VUs 1..N: init
 *   setup() ─> scenarios (executors, concurrently, each at its startTime) ─> teardown()
 *          ─> thresholds ─> summary ─> handleSummary()
 */
import { UsageError } from '../base/errors.ts';
import { classify, type Classification } from './blocking/classify.ts';
import { checkBlockingVUs } from './blocking/memory.ts';
import { BlockingScript } from './blocking/script.ts';
import { defineWsMetrics } from './blocking/ws-metrics.ts';
import { bundleScript, type Bundle } from './bundle.ts';
import { parseDurationMs } from './duration.ts';
import { ExecutionSegment, ExecutionSegmentError, ExecutionSegmentSequence, ExecutionTuple, SegmentedIndex } from './execution-segment.ts';
import { hasWork, vusOf } from './executors/segment-share.ts';
import { arrivalRate } from './executors/arrival-rate.ts';
import { applyLoadOverrides, hasLoadOverrides } from './load-overrides.ts';
import { constantVus, perVuIterations, sharedIterations } from './executors/closed.ts';
import { rampingVus } from './executors/ramping-vus.ts';
import { ScenarioRun, waitUntil } from './executors/scenario-run.ts';
import { EXIT_SCRIPT_ABORTED } from './k6/execution.ts';
import { checkOptionKeys, EXECUTOR_DEFAULTS, plannedDurationMs, resolveScenarios, type ScenarioConfig } from './options.ts';
import { tlsConnectOptions } from './k6/tls-options.ts';
import { Script } from './script.ts';
import { scriptLocation } from './source-positions.ts';
import { buildSummary, textSummary } from './summary.ts';
import { exportMetrics } from './metrics/transfer.ts';
import { Abort, TestRun, UNMEASURED_METRICS } from './test-run.ts';
import { parseThresholds, Thresholds, type ThresholdResult } from './thresholds.ts';
import type { EngineResult, Progress, RunScriptOptions } from './types.ts';
import { VU } from './vu.ts';

/** k6's exit codes (errext/exitcodes). */
export const EXIT = Object.freeze({ ok: 0, thresholdsFailed: 99, setupTimeout: 100, teardownTimeout: 101, externalAbort: 105, scriptException: 107, scriptAborted: EXIT_SCRIPT_ABORTED });
const THRESHOLD_EVAL_MS = 2000; // k6 evaluates thresholds for abortOnFail every 2 s

const EXECUTORS: Record<ScenarioConfig['executor'], (s: ScenarioRun) => Promise<void>> = {
  'constant-vus': constantVus,
  'ramping-vus': rampingVus,
  'per-vu-iterations': perVuIterations,
  'shared-iterations': sharedIterations,
  'constant-arrival-rate': arrivalRate,
  'ramping-arrival-rate': arrivalRate,
};

export async function runBuiltin(opts: RunScriptOptions): Promise<EngineResult> {
  const bundle = await bundleScript(opts.scriptPath, { target: 'node' });
  const model = classify(bundle.code);
  const script = await loadScript(bundle, model);
  try {
    return await runLoaded(opts, script, model);
  } finally {
    if (script instanceof BlockingScript) await script.close();
  }
}

/** The execution model is chosen per script (./blocking/classify.ts): blocking VUs only where a script blocks. */
async function loadScript(bundle: Bundle, model: Classification): Promise<Script | BlockingScript> {
  return model.model === 'blocking' ? BlockingScript.load(bundle) : new Script(bundle);
}

async function runLoaded(opts: RunScriptOptions, script: Script | BlockingScript, model: Classification): Promise<EngineResult> {
  const env = { ...(opts.env ?? {}) };

  // VU 0 runs init first to read options, then setup, teardown and handleSummary (as in k6).
  const probe = new TestRun(env, {}, opts.phase, opts.history, {});
  const vu0probe = new VU(0, probe);
  const exports0 = instantiateChecked(script, vu0probe, { ...env });
  const options = (exports0.options ?? {}) as Record<string, unknown>;
  checkOptionKeys(options);
  // The flags win over the script's options, as in k6.
  const tuple = executionTuple({
    executionSegment: opts.executionSegment ?? optionString(options.executionSegment, 'options.executionSegment'),
    executionSegmentSequence: opts.executionSegmentSequence ?? optionString(options.executionSegmentSequence, 'options.executionSegmentSequence'),
  });
  const run = new TestRun(env, strings(options.tags), opts.phase, opts.history, options, opts.clock);
  const clock = run.clock;
  run.discardResponseBodies = options.discardResponseBodies === true;
  if (model.reasons.includes('k6/ws')) defineWsMetrics(run.registry);
  if (model.reasons.includes('k6/net/grpc')) run.registry.define('grpc_req_duration', 'trend', 'time');
  run.tls = tlsConnectOptions(options, (m) => run.warnOnce(m, m));
  const vu0 = new VU(0, run);
  vu0.exports = instantiateChecked(script, vu0, { ...env });
  const declared = resolveScenarios(options, {
    vus: opts.vus,
    iterations: opts.iterations,
    durationMs: opts.duration === undefined ? undefined : parseDurationMs(opts.duration, '--duration'),
  });
  const overridden = hasLoadOverrides(opts.load) ? applyLoadOverrides(declared, opts.load) : declared;
  // k6 skips an executor that has no share in this segment (HasWork), as if it were not declared.
  const configs = overridden.filter((c) => hasWork(c, tuple));
  for (const c of configs) {
    if (typeof vu0.exports[c.exec] !== 'function') {
      throw new UsageError(`scenario '${c.name}': the script exports no function '${c.exec}'${c.exec === 'default' ? ' (export default function)' : ''}`);
    }
  }
  const thresholds = new Thresholds(parseThresholds(options.thresholds), run.registry, UNMEASURED_METRICS);
  const trendStats = Array.isArray(options.summaryTrendStats) ? options.summaryTrendStats.map(String) : EXECUTOR_DEFAULTS.summaryTrendStats;

  // Initialise VUs up front, as k6 does; arrival-rate executors may add more up to maxVUs.
  const all: VU[] = [];
  const free: VU[] = [];
  let setupJson: string | undefined;
  // __VU counts this runner's VUs; vu.idInTest is the striped global index, unique across segments.
  const vuIds = SegmentedIndex.of(tuple);
  const newVU = (): VU => {
    const vu = new VU(all.length + 1, run, vuIds.next()[1]);
    vu.exports = instantiateChecked(script, vu, { ...env });
    vu.setupData = setupJson === undefined ? undefined : JSON.parse(setupJson);
    all.push(vu);
    run.vusInitialized++;
    return vu;
  };
  const needed = configs.reduce((a, c) => a + vusOf(c, tuple), 0);
  if (script instanceof BlockingScript) {
    checkBlockingVUs(configs, model.reasons);
    script.prestart(Array.from({ length: needed }, (_, i) => i + 1), env, options);
  }
  for (let i = 0; i < needed; i++) free.push(newVU());

  const onUnhandled = (e: unknown) => vu0.logError(e);
  process.on('unhandledRejection', onUnhandled);
  const stopOnSignal = () => run.stop(new Abort('test run aborted by signal', EXIT.externalAbort));
  opts.signal?.addEventListener('abort', stopOnSignal, { once: true });
  const runs: ScenarioRun[] = [];
  const stopAll = () => runs.forEach((s) => s.interruptAll());
  run.abortController.signal.addEventListener('abort', stopAll, { once: true });
  let progressTimer: NodeJS.Timeout | undefined;
  let setupData: unknown;
  try {
    run.startMs = clock.now();
    if (opts.signal?.aborted) stopOnSignal();
    // setup()
    if (typeof vu0.exports.setup === 'function') {
      const timeoutMs = options.setupTimeout !== undefined ? parseDurationMs(options.setupTimeout, 'options.setupTimeout') : EXECUTOR_DEFAULTS.setupTimeoutMs;
      const r = await inGroup(vu0, 'setup', () => callWithTimeout(vu0, vu0.exports.setup as () => unknown, undefined, timeoutMs));
      if (r.error) return fail(run, `setup: ${describe(r.error)}`, r.timedOut ? EXIT.setupTimeout : EXIT.scriptException, opts.exportMetrics === true);
      setupData = r.value;
      setupJson = setupData === undefined ? undefined : JSON.stringify(setupData);
      for (const vu of all) vu.setupData = setupJson === undefined ? undefined : JSON.parse(setupJson);
    }

    const source = {
      acquire: (create: boolean) => free.pop() ?? (create ? newVU() : undefined),
      release: (vu: VU) => free.push(vu),
    };
    for (const c of configs) {
      runs.push(
        new ScenarioRun(c, run, source, (vu) => vu.exports[c.exec] as (d: unknown) => unknown, (vu) => vu.setupData, tuple),
      );
    }
    for (const s of runs) s.onTake = (vu) => (vu.env = Object.assign(vu.env, s.config.env));
    const totalMs = Math.max(...configs.map(plannedDurationMs));
    let lastRequests = 0;
    let lastAt = clock.now();
    let lastThresholdEval = 0;
    const tick = () => {
      const now = clock.now();
      run.registry.add(run.m.vus, run.vusActive, run.globalTags);
      run.registry.add(run.m.vus_max, run.vusInitialized, run.globalTags);
      if (now - lastThresholdEval >= THRESHOLD_EVAL_MS) {
        lastThresholdEval = now;
        const failed = thresholds.abortReason(run.elapsedMs);
        if (failed) run.stop(new Abort(`thresholds on metrics '${failed.metric}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`, EXIT.thresholdsFailed));
      }
      if (opts.onProgress) {
        const p = progress(run, totalMs, (run.requests - lastRequests) / Math.max(0.001, (now - lastAt) / 1000), runs);
        lastRequests = run.requests;
        lastAt = now;
        opts.onProgress(p);
      }
    };
    progressTimer = setInterval(tick, Math.min(opts.progressIntervalMs ?? 1000, THRESHOLD_EVAL_MS));
    await Promise.all(
      runs.map(async (s) => {
        if (!(await waitUntil(clock, run.startMs + s.config.startTimeMs, run.abortController.signal))) return;
        s.startedAtMs = clock.now();
        await EXECUTORS[s.config.executor](s);
      }),
    );
    clearInterval(progressTimer);
    progressTimer = undefined;
    if (run.fatal) throw run.fatal;

    // teardown(data)
    if (typeof vu0.exports.teardown === 'function' && !(run.abort && run.abort.exitCode === EXIT.scriptException)) {
      const timeoutMs = options.teardownTimeout !== undefined ? parseDurationMs(options.teardownTimeout, 'options.teardownTimeout') : EXECUTOR_DEFAULTS.teardownTimeoutMs;
      const r = await inGroup(vu0, 'teardown', () => callWithTimeout(vu0, vu0.exports.teardown as (d: unknown) => unknown, setupJson === undefined ? undefined : JSON.parse(setupJson), timeoutMs));
      if (r.error && !run.abort) run.stop(new Abort(`teardown: ${describe(r.error)}`, r.timedOut ? EXIT.teardownTimeout : EXIT.scriptException));
    }
    if (run.fatal) throw run.fatal;
    const durationMs = run.elapsedMs;
    const results = thresholds.evaluate(durationMs);
    const summary = buildSummary(run, results, durationMs, trendStats, setupData);
    let summaryOutputs: Record<string, string | ArrayBuffer> = { stdout: textSummary(summary) };
    if (typeof vu0.exports.handleSummary === 'function') {
      const r = await callWithTimeout(vu0, vu0.exports.handleSummary as (d: unknown) => unknown, summary, 120_000);
      if (r.error) {
        vu0.logError(new Error(`handleSummary: ${describe(r.error)}`));
      } else if (r.value && typeof r.value === 'object') {
        summaryOutputs = r.value as Record<string, string | ArrayBuffer>;
      } else summaryOutputs = {};
    }
    if (opts.onProgress) opts.onProgress(progress(run, Math.max(...configs.map(plannedDurationMs)), 0, runs));
    return result(run, results, summary, summaryOutputs, durationMs, runs, opts.exportMetrics === true);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    opts.signal?.removeEventListener('abort', stopOnSignal);
    process.off('unhandledRejection', onUnhandled);
    for (const s of runs) s.interruptAll();
    await Promise.all([...all, vu0].map((vu) => vu.close()));
  }
}

/** The run's execution tuple from k6's two flags; a bad value is the user's, with k6's message. */
export function executionTuple(opts: Pick<RunScriptOptions, 'executionSegment' | 'executionSegmentSequence'>): ExecutionTuple {
  const userError = <T>(flag: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof ExecutionSegmentError)) throw e;
      throw new UsageError(`${flag}: ${e.message} (e.g. --execution-segment 1/3:2/3 --execution-segment-sequence 0,1/3,2/3,1)`);
    }
  };
  const { executionSegment: seg, executionSegmentSequence: seq } = opts;
  const segment = seg === undefined ? undefined : userError('--execution-segment', () => ExecutionSegment.parse(seg));
  const sequence = seq === undefined ? undefined : userError('--execution-segment-sequence', () => ExecutionSegmentSequence.parse(seq));
  return userError('--execution-segment', () => ExecutionTuple.of(segment, sequence));
}

function optionString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new UsageError(`${field} must be a string such as "1/3:2/3", got ${JSON.stringify(v)}`);
  return v;
}

function result(run: TestRun, thresholds: ThresholdResult[], summary: ReturnType<typeof buildSummary>, outputs: Record<string, string | ArrayBuffer>, durationMs: number, runs: ScenarioRun[], exportState: boolean): EngineResult {
  const failed = thresholds.some((t) => !t.ok);
  let exitCode: number = EXIT.ok;
  if (run.abort) exitCode = run.abort.exitCode;
  if (failed && (exitCode === EXIT.ok || exitCode === EXIT.externalAbort)) exitCode = EXIT.thresholdsFailed;
  const droppedIterations = runs.reduce((a, s) => a + s.droppedIterations, 0);
  const aborted = run.abort ? { reason: run.abort.reason, exitCode: run.abort.exitCode } : undefined;
  return {
    ...(exportState ? { metricsState: exportMetrics(run, { durationMs, exitCode, droppedIterations, ...(aborted ? { aborted } : {}) }) } : {}),
    engine: 'builtin',
    exitCode,
    ...(run.abort ? { aborted: { reason: run.abort.reason, exitCode: run.abort.exitCode } } : {}),
    thresholds,
    summary,
    metrics: summary.metrics,
    summaryOutputs: outputs,
    hdr: run.registry.snapshots(),
    droppedIterations: runs.reduce((a, s) => a + s.droppedIterations, 0),
    historyEntries: run.historyEntries,
    durationMs,
    requestFailures: { reasons: run.failureReasons.list(), overflow: run.failureReasons.overflow },
    requestsAbandoned: run.requestsAbandoned + run.requestsInFlight,
  };
}

function fail(run: TestRun, reason: string, exitCode: number, exportState: boolean): EngineResult {
  process.stderr.write(`ERRO ${reason}\n`);
  run.stop(new Abort(reason, exitCode));
  const summary = buildSummary(run, [], run.elapsedMs, EXECUTOR_DEFAULTS.summaryTrendStats, undefined);
  return result(run, [], summary, {}, run.elapsedMs, [], exportState);
}

function progress(run: TestRun, totalMs: number, rps: number, runs: ScenarioRun[]): Progress {
  const trend = run.registry.trend('http_req_duration');
  const phase = run.phase?.();
  return {
    elapsedMs: run.elapsedMs,
    totalMs,
    requestsPerSecond: rps,
    requests: run.requests,
    errors: run.requestErrors,
    p99Ms: trend ? trend.percentile(99) : 0,
    vusActive: run.vusActive,
    iterations: run.iterationsCompleted,
    droppedIterations: runs.reduce((a, s) => a + s.droppedIterations, 0),
    ...(phase !== undefined ? { phase } : {}),
  };
}

function instantiateChecked(script: Pick<Script, 'instantiate'>, vu: VU, env: Record<string, string>) {
  try {
    return script.instantiate(vu, env);
  } catch (e) {
    if ((e as { fatal?: boolean }).fatal) throw new UsageError((e as Error).message);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`the script's init code failed: ${describe(e)}`, { cause: e });
  }
}

async function callWithTimeout(vu: VU, fn: (d: unknown) => unknown, data: unknown, timeoutMs: number): Promise<{ value?: unknown; error?: unknown; timedOut?: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: unknown; timedOut: true }>((r) => {
    timer = setTimeout(() => r({ error: new Error(`timed out after ${timeoutMs} ms`), timedOut: true }), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        const value = await fn(data);
        await vu.drain();
        return { value };
      })().catch((error: unknown) => ({ error })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** k6 runs setup() and teardown() in groups of those names: their checks and samples say so. */
async function inGroup<T>(vu: VU, name: 'setup' | 'teardown', fn: () => Promise<T>): Promise<T> {
  const path = `::${name}`;
  vu.run.group(path);
  vu.groupPath = path;
  try {
    return await fn();
  } finally {
    vu.groupPath = '';
  }
}

/** The error's message, with where in the script it was thrown (source-mapped) when that is known. */
function describe(e: unknown): string {
  const at = scriptLocation(e);
  return `${e instanceof Error ? e.message : String(e)}${at ? ` (at ${at})` : ''}`;
}

function strings(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}
