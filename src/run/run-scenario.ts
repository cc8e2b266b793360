/**
 * One scenario run, end to end. Each stage is a module of src/run/; this file only passes what
 * one stage produced to the next.
 *
 *   RunOptions ─▶ load-spec, topology-for (adapter-run) ─▶ startTopology ─▶ Topology
 *                                                               │
 *   seed ─────────────── seeded sessions (history entries 1…n) ─┤
 *   witnesses (before) ── /metrics text, used_memory ───────────┤
 *                                                               ▼
 *        ┌──────────────────────┬───────────────────────────────┴────────┐
 *        ▼                      ▼                                        ▼
 *   fault-plan            breaker-sampler                    load (engine, k6 script)
 *     │ timeline,           │ breaker states                   │ history entries,
 *     │ skipped faults      │ once a second                    │ thresholds, dropped iterations
 *        └──────────────────────┴──────────────────┬─────────────────────┘
 *                                                  ▼
 *   witnesses (after) ── scrapes, audit trail, store snapshot, used_memory
 *                                                  ▼
 *   check-run ── the scenario's invariants from the checkers' registry (history × witnesses ×
 *                fault windows), the ones left unchecked, staleness and recovery stats
 *                                                  ▼
 *   assemble-result ── result.json ─▶ index.html, summary.md, junit.xml, history.json,
 *                                     latency/*.hgrm, history.edn
 *
 * Measured failures (anomalies, thresholds) decide the verdict; only harness failures throw.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeElle } from '../check/index.ts';
import type { EngineResult } from '../engine/types.ts';
import type { RunResult } from '../report/result-schema.ts';
import type { Interruption } from '../report/verdict.ts';
import { writeReports } from '../report/write.ts';
import { redactString } from '../report/redact.ts';
import { startTopology, TOPOLOGY_DEFAULTS, type Topology } from '../topology/index.ts';
import { resolveProfile, type ResolvedProfile } from '../backend/profile.ts';
import { preflight } from '../backend/probe.ts';
import { UsageError } from '../base/errors.ts';
import { adapterOf, adapterProfile, adapterRunRefusal, adapterStore, adapterTopology, adapterUnreachable, checkAdapterOptions } from './adapter-run.ts';
import { assembleResult } from './assemble-result.ts';
import { startBreakerSampler } from './breaker-sampler.ts';
import { checkRun } from './check-run.ts';
import { faultWindowsOf, startFaultPlan } from './fault-plan.ts';
import { historyBound, historyBoundReason } from './history-bound.ts';
import { partitionEntries, spillingHistoryLog, spillThreshold, SPILL_DIR, type SpillingHistoryLog } from './history-spill.ts';
import { runLoad } from './load.ts';
import { loadSpec } from './load-spec.ts';
import { newRunId, parseRunId, refuseUsedRunDir } from './run-id.ts';
import { RUN_DEFAULTS, type RunContext, type RunOptions } from './run-options.ts';
import { resolveScenario } from './scenarios.ts';
import { seedStore } from './seed.ts';
import { describeTopology, topologyFor } from './topology-for.ts';
import { metricsEndpoints, witnessAfter, witnessBefore } from './witnesses.ts';

export interface RunOutcome {
  result: RunResult;
  runDir: string;
  exitCode: number;
}

export { newRunId } from './run-id.ts';

export async function runScenario(opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const profile = opts.profile ?? RUN_DEFAULTS.profile;
  const resolved = resolveScenario(opts.scenario);
  const adapter = adapterOf(opts.adapter);
  if (adapter) checkAdapterOptions(adapter, opts);
  const store = adapter ? adapterStore(adapter, opts.store) : (opts.store ?? TOPOLOGY_DEFAULTS.store);
  // The store is in the script's __ENV too, so a scenario can pick the store faults that store has.
  const env: Record<string, string> = { STATEPROOF_PROFILE: profile, ...(opts.target || opts.backend ? {} : { STATEPROOF_STORE: store }), ...opts.env };
  const spec = await loadSpec(resolved.scriptPath, env);
  const refusal = adapter ? adapterRunRefusal(adapter, spec) : undefined;
  if (refusal) throw new UsageError(refusal);
  const runId = opts.runId !== undefined ? parseRunId(opts.runId, 'runId') : newRunId(resolved.name);
  const runDir = path.resolve(opts.outDir ?? RUN_DEFAULTS.outDir, runId);
  // A fixed id must not land in a directory that already holds a run: reports would overwrite it.
  if (opts.runId !== undefined) refuseUsedRunDir(runDir, runId);
  // Not created here: writeReports makes it once there is a result, so a run that fails to start
  // (bad target, no k6, no redis-server) leaves no empty directory behind.
  const unsafe = opts.unsafe ?? [];
  // --target alone is a profile of one instance that declares nothing: the contract's minimum.
  // An adapter is judged by the profile it ships, in the local topology.
  const backend: ResolvedProfile | undefined = adapter ? await adapterProfile(adapter) : (opts.backend ?? (opts.target ? resolveProfile({ instances: opts.target }, '--target') : undefined));
  const external = backend !== undefined && !adapter;

  const topologyOptions = adapter ? adapterTopology(spec, opts, adapter, backend!, log) : topologyFor(spec, opts, unsafe, log, backend);
  // A scenario may name its store (a cluster scenario does); the script sees the one that runs.
  if (env.STATEPROOF_STORE !== undefined && topologyOptions.store !== undefined && opts.env?.STATEPROOF_STORE === undefined) env.STATEPROOF_STORE = topologyOptions.store;
  log(`stateproof: starting ${external ? `the external target ${backend.instances.map((u) => redactString(u)).join(', ')}` : describeTopology(topologyOptions)}`);
  const topology = await startTopology(topologyOptions);
  try {
    if (external && !opts.skipPreflight) {
      // A target that is unreachable or does not speak the contract ends the run here, in seconds.
      const tokens = Object.values(topology.tenants);
      const { requests } = await preflight(backend.instances, tokens);
      log(`stateproof: preflight passed (${requests} contract requests on ${backend.instances.length} instance(s), ${tokens.length} tenant(s))`);
    }
    Object.assign(env, scenarioEnv(topology, backend));
    return await runAgainst(topology, { opts, spec, resolved, env, runId, runDir, unsafe, profile, log, backend, adapter });
  } finally {
    await topology.stop();
  }
}

/**
 * What the scenario learns from the world: every tenant (two or more turn the cross-tenant probes
 * on) and the bounds the backend declares, so its idle sessions wait out the declared TTL and its
 * turns respect the declared sizes. The user's own -e settings win.
 */
function scenarioEnv(topology: Topology, backend: ResolvedProfile | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  const tenants = Object.entries(topology.tenants);
  if (tenants.length >= 2) env.STATEPROOF_TENANTS = tenants.map(([name, token]) => `${name}=${token}`).join(',');
  const b = backend?.bounds;
  if (b) {
    if (b.ttlSeconds !== undefined) env.STATEPROOF_TTL_SECONDS = b.ttlSeconds === null ? 'none' : String(b.ttlSeconds);
    else env.STATEPROOF_TTL_SECONDS = 'undeclared';
    if (b.windowTurns !== undefined) env.STATEPROOF_WINDOW_TURNS = String(b.windowTurns);
    if (b.maxTurnBytes !== undefined) env.STATEPROOF_MAX_TURN_BYTES = String(b.maxTurnBytes);
    if (b.maxStateBytes !== undefined) env.STATEPROOF_MAX_STATE_BYTES = String(b.maxStateBytes);
  }
  return env;
}

async function runAgainst(topology: Topology, ctx: RunContext): Promise<RunOutcome> {
  const { log } = ctx;
  const spillAfter = spillThreshold();
  const perPartition = partitionEntries();
  const bound = historyBound(process.env, spillAfter);
  // Bound hit: the load stops as a signal would stop it, and the verdict says why.
  const abort = new AbortController();
  let boundHitAtMs: number | undefined;
  const history = spillingHistoryLog({
    dir: path.join(ctx.runDir, SPILL_DIR),
    spillAfter,
    partitionEntries: perPartition,
    softLimit: bound,
    onSoftLimit: () => {
      boundHitAtMs = Date.now();
      log(`stateproof: ${bound.toLocaleString('en-US')} operations recorded, the history's memory bound: stopping the load; the run is checked and reported as interrupted (set STATEPROOF_MAX_HISTORY, or give node a larger --max-old-space-size, to record more)`);
      abort.abort(historyBoundReason(bound));
    },
  });
  try {
    return await recordCheckReport(topology, ctx, history, abort, bound, () => boundHitAtMs);
  } finally {
    history.close();
    await rm(path.join(ctx.runDir, SPILL_DIR), { recursive: true, force: true });
  }
}

/** Seeds, drives the load into `history`, reads the witnesses, checks, and writes the reports. */
async function recordCheckReport(topology: Topology, ctx: RunContext, history: SpillingHistoryLog, abort: AbortController, bound: number, boundHitAt: () => number | undefined): Promise<RunOutcome> {
  const { opts, spec, log } = ctx;
  const [tenant, token] = Object.entries(topology.tenants)[0] ?? ['tenant-a', 'tenant-a-token'];
  await seedStore(topology, spec, tenant, history);
  const endpoints = metricsEndpoints(topology);
  const before = await witnessBefore(topology, endpoints);

  const startedAtMs = Date.now();
  const onAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const interruption = watchInterruption(opts.signal, startedAtMs);
  let plannedMs: number | null = null;
  const { plan, skipped } = startFaultPlan(spec, topology, { seed: opts.seed, signal: abort.signal, log });
  const breaker = startBreakerSampler(endpoints, startedAtMs);
  let engine: EngineResult;
  try {
    engine = await runLoad({
      scriptPath: ctx.resolved.scriptPath,
      env: ctx.env,
      targetUrl: topology.routerUrl,
      tenant,
      token,
      history,
      plan,
      signal: abort.signal,
      engine: opts.engine,
      k6Path: opts.k6Path,
      load: opts.load,
      runners: opts.runners,
      sinkListen: opts.sinkListen,
      sinkToken: opts.sinkToken,
      runId: ctx.runId,
      log,
      onProgress: (p) => {
        plannedMs = p.totalMs || plannedMs;
        opts.onProgress?.(p);
      },
    });
  } finally {
    interruption.loadEnded();
    breaker.stop();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const timeline = plan ? await plan.stop() : [];
  const endedAtMs = Date.now();
  log(`stateproof: load finished (${history.size.toLocaleString('en-US')} operations recorded${history.spilled ? `, on disk past ${history.spillAfter.toLocaleString('en-US')} (STATEPROOF_SPILL_AFTER)` : ''}); checking`);
  await holdCheckStageForSelfTest(opts.signal, log);

  // An adapter's store holds the library's layout: a snapshot in the reference service's would read as empty.
  // A spilled history's audit trail goes to disk beside it, in the same partitions.
  const parts = history.spilled ? history.partitions() : undefined;
  if (parts) log(`stateproof: the history is checked in ${parts.count} partition(s) of whole sessions, about ${Math.ceil(history.size / parts.count).toLocaleString('en-US')} operations each (STATEPROOF_PARTITION_ENTRIES)`);
  const auditSpill = parts ? { dir: path.join(ctx.runDir, SPILL_DIR, 'audit'), partitions: parts.count } : undefined;
  const witnesses = await witnessAfter(topology, endpoints, before, history.instances, { storeSnapshot: !ctx.adapter, ...(auditSpill ? { auditSpill } : {}) });
  const faultWindows = faultWindowsOf(timeline, endedAtMs);
  const checked = checkRun({
    spec,
    history: parts ?? history.entries,
    witnesses,
    faultWindows,
    external: topology.provider === 'external',
    log,
    backend: ctx.backend,
    tenants: Object.keys(topology.tenants).length,
    abandonedRequests: engine.requestsAbandoned,
    ...(ctx.adapter ? { unreachable: adapterUnreachable(ctx.adapter) } : {}),
  });
  const interrupted =
    interruption.result(plannedMs) ??
    (boundHitAt() !== undefined ? { signal: historyBoundReason(bound), stage: 'load' as const, afterMs: Math.max(0, boundHitAt()! - startedAtMs), plannedMs } : undefined);
  // A spilled history is read from here on as the check's slim copy (no windows, no summaries);
  // the operations that prove an anomaly are read back whole.
  const result = await assembleResult({ ctx, topology, history: checked.slim ?? history.entries, provingOps: (ids) => history.pick(ids), startedAtMs, endedAtMs, engine, timeline, skippedFaults: skipped, breakerSamples: breaker.samples, witnesses, checked, ...(interrupted ? { interrupted } : {}) });

  await writeReports(result, ctx.runDir, { historyJson: history.jsonInOrder() });
  if (history.spilled) {
    log(`stateproof: history.edn not written: the Elle export orders every operation at once, and this history (${history.size.toLocaleString('en-US')} operations) spilled to disk; history.json holds it all (STATEPROOF_SPILL_AFTER raises the threshold)`);
    return { result, runDir: ctx.runDir, exitCode: result.verdict.exitCode };
  }
  // For sceptics: the same history in the form Jepsen's Elle (list-append) checks.
  const edn = await writeElle(history.entries, path.join(ctx.runDir, 'history.edn'), { windowTurns: spec?.check?.windowTurns, maxBytes: opts.elleMaxBytes });
  if (edn.truncated) log(`stateproof: history.edn holds the first ${edn.eventsWritten} of ${edn.events} Elle events (reads carry whole lists; the file stops at ${edn.bytes >= 2 ** 20 ? `${Math.round(edn.bytes / 2 ** 20)} MiB` : `${Math.round(edn.bytes / 1024)} KiB`})`);
  return { result, runDir: ctx.runDir, exitCode: result.verdict.exitCode };
}

/**
 * When the run's signal fired, and where: during the load (the signal stops it) or after it, while
 * the witnesses were read and checked. The abort reason is the signal's name (cli/interrupt.ts).
 */
function watchInterruption(signal: AbortSignal | undefined, loadStartMs: number) {
  let loadEndMs: number | undefined;
  let at: { ms: number; stage: 'load' | 'check' } | undefined;
  const mark = () => (at ??= { ms: Date.now(), stage: loadEndMs === undefined ? 'load' : 'check' });
  if (signal?.aborted) mark();
  else signal?.addEventListener('abort', mark, { once: true });
  return {
    loadEnded: () => void (loadEndMs ??= Date.now()),
    result(plannedMs: number | null): Interruption | undefined {
      signal?.removeEventListener('abort', mark);
      if (!at) return undefined;
      const reason: unknown = signal?.reason;
      return {
        signal: typeof reason === 'string' && /^SIG[A-Z]+$/.test(reason) ? reason : 'a signal',
        stage: at.stage,
        afterMs: Math.max(0, Math.min(at.ms, loadEndMs ?? at.ms) - loadStartMs),
        plannedMs,
      };
    },
  };
}

/**
 * STATEPROOF_SELFTEST_HOLD_CHECK (tests only, as STATEPROOF_SELFTEST_CRASH): the run waits at the
 * start of its check stage, so a test can signal it there deterministically through the real
 * binary (test/cli/interrupt.test.ts). `1`: until it is interrupted; `stuck`: past that too, as a
 * check that does not end would, so only a second signal (force-quit) ends it. At most a minute.
 */
async function holdCheckStageForSelfTest(signal: AbortSignal | undefined, log: (line: string) => void): Promise<void> {
  const how = process.env.STATEPROOF_SELFTEST_HOLD_CHECK;
  if ((how !== '1' && how !== 'stuck') || !signal || signal.aborted) return;
  log('stateproof: self-test: holding the check stage until a signal (STATEPROOF_SELFTEST_HOLD_CHECK)');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    if (how === '1') signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
