/**
 * One scenario run, end to end. Each stage is a module of src/run/; this file only passes what
 * one stage produced to the next.
 *
 *   RunOptions ─▶ load-spec, topology-for ─▶ startTopology ─▶ Topology
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
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeElle } from '../check/index.ts';
import type { EngineResult } from '../engine/types.ts';
import type { RunResult } from '../report/result-schema.ts';
import { writeReports } from '../report/write.ts';
import { redactString } from '../report/redact.ts';
import { startTopology, type Topology } from '../topology/index.ts';
import { assembleResult } from './assemble-result.ts';
import { startBreakerSampler } from './breaker-sampler.ts';
import { checkRun } from './check-run.ts';
import { faultWindowsOf, startFaultPlan } from './fault-plan.ts';
import { historyLog } from './history-log.ts';
import { runLoad } from './load.ts';
import { loadSpec } from './load-spec.ts';
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

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenario}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function runScenario(opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const profile = opts.profile ?? RUN_DEFAULTS.profile;
  const resolved = resolveScenario(opts.scenario);
  const env: Record<string, string> = { STATEPROOF_PROFILE: profile, ...opts.env };
  const spec = await loadSpec(resolved.scriptPath, env);
  const runId = opts.runId ?? newRunId(resolved.name);
  const runDir = path.resolve(opts.outDir ?? RUN_DEFAULTS.outDir, runId);
  await mkdir(runDir, { recursive: true });
  const unsafe = opts.unsafe ?? [];

  const topologyOptions = topologyFor(spec, opts, unsafe, log);
  log(`stateproof: starting ${opts.target ? `the external target ${redactString(opts.target)}` : describeTopology(topologyOptions)}`);
  const topology = await startTopology(topologyOptions);
  try {
    return await runAgainst(topology, { opts, spec, resolved, env, runId, runDir, unsafe, profile, log });
  } finally {
    await topology.stop();
  }
}

async function runAgainst(topology: Topology, ctx: RunContext): Promise<RunOutcome> {
  const { opts, spec, log } = ctx;
  const [tenant, token] = Object.entries(topology.tenants)[0] ?? ['tenant-a', 'tenant-a-token'];
  const history = historyLog();
  await seedStore(topology, spec, tenant, history);
  const endpoints = metricsEndpoints(topology);
  const before = await witnessBefore(topology, endpoints);

  const startedAtMs = Date.now();
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
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
      onProgress: opts.onProgress,
    });
  } finally {
    breaker.stop();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const timeline = plan ? await plan.stop() : [];
  const endedAtMs = Date.now();
  log(`stateproof: load finished (${history.entries.length} operations recorded); checking`);

  const witnesses = await witnessAfter(topology, endpoints, before, history.entries);
  const checked = checkRun({ spec, history: history.entries, witnesses, faultWindows: faultWindowsOf(timeline, endedAtMs), external: topology.provider === 'external', log });
  const result = await assembleResult({ ctx, topology, history: history.entries, startedAtMs, endedAtMs, engine, timeline, skippedFaults: skipped, breakerSamples: breaker.samples, witnesses, checked });

  await writeReports(result, ctx.runDir, { history: history.entries });
  // For sceptics: the same history in the form Jepsen's Elle (list-append) checks.
  const edn = await writeElle(history.entries, path.join(ctx.runDir, 'history.edn'), { windowTurns: spec?.check?.windowTurns, maxBytes: opts.elleMaxBytes });
  if (edn.truncated) log(`stateproof: history.edn holds the first ${edn.eventsWritten} of ${edn.events} Elle events (reads carry whole lists; the file stops at ${Math.round(edn.bytes / 2 ** 20)} MiB)`);
  return { result, runDir: ctx.runDir, exitCode: result.verdict.exitCode };
}
