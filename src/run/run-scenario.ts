/**
 * One scenario run, end to end:
 *
 *   spec ─▶ topology ─▶ seed ─▶ scrape/used_memory (before)
 *                         │
 *            ┌────────────┴────────────┐
 *            ▼                         ▼
 *     chaos plan runner         engine (k6 script) ──▶ history (in-process sink)
 *            │ timeline                │ summary, thresholds
 *            └────────────┬────────────┘
 *                         ▼
 *   scrape/used_memory (after), audit logs, store snapshot
 *                         ▼
 *   checkers (history × audit × store × metrics) + scenario invariants
 *                         ▼
 *   result.json ─▶ index.html, summary.md, junit.xml, history.json, latency/*.hgrm
 *
 * Measured failures (anomalies, thresholds) decide the verdict; only harness failures throw.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkHistory, exportElle, parseAuditLog, type CheckOptions, type InvariantName, INVARIANTS } from '../check/index.ts';
import type { AuditRecord, InvariantResult, MetricsScrape, StoreSnapshot } from '../check/types.ts';
import { runPlan, type FaultTimeline, type PlanRun } from '../../chaos/index.ts';
import { faultFamily } from '../../chaos/plan.ts';
import { runScript } from '../engine/index.ts';
import type { Progress } from '../engine/types.ts';
import type { HistoryEntry } from '../record/history.ts';
import { collectEnvironment, createResult, verdictOf } from '../report/build.ts';
import { redactString } from '../report/redact.ts';
import { metricsFromHistory, latencyFromHistory } from '../report/derive/from-history.ts';
import { faultImpacts } from '../report/derive/fault-impact.ts';
import { measureCapacity, projectCapacity } from '../report/capacity.ts';
import type { RunResult, TimelineEntry } from '../report/result-schema.ts';
import { writeReports } from '../report/write.ts';
import { startTopology, TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions, type RouterPolicy, type StoreKind } from '../topology/index.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { UsageError } from '../base/errors.ts';
import { loadSpec } from './load-spec.ts';
import { resolveScenario } from './scenarios.ts';
import { breakerState, scrapeMetrics } from './scrape.ts';
import { redisVersion, seedV1Sessions, snapshotStore, usedMemoryBytes, type SnapshotExtras } from './store-snapshot.ts';
import { scenarioInvariants } from './scenario-invariants.ts';
import { bytesByTurn, stateHealthFrom, type BreakerSample } from './state-health.ts';

export interface RunOptions {
  /** A built-in scenario name or a path to a k6 script. */
  scenario: string;
  profile?: 'ci' | 'full';
  /** -e KEY=VALUE for the script's __ENV. */
  env?: Record<string, string>;
  engine?: 'builtin' | 'k6';
  k6Path?: string;
  instances?: number;
  router?: RouterPolicy;
  /** The store under the service (local topology). Default redis. */
  store?: StoreKind;
  /** Safeguards to switch off on every instance. */
  unsafe?: string[];
  /** Seed of the fault plan's randomness. */
  seed?: number;
  /** External backend: its entry URL (no topology is started). */
  target?: string;
  toxiproxyUrl?: string;
  redisUrl?: string;
  /** Root under which reports/<run-id>/ is written. */
  outDir?: string;
  runId?: string;
  /** A label for compare, e.g. "reference --unsafe cas". */
  backendLabel?: string;
  signal?: AbortSignal;
  /**
   * Live progress; `anomalies` counts what can be judged per answer while the load runs (a bare
   * 5xx, an answer that does not say its mode). History checks run after the load.
   */
  onProgress?: (p: Progress & { activeFaults: string[]; anomalies: number }) => void;
  log?: (line: string) => void;
}

export interface RunOutcome {
  result: RunResult;
  runDir: string;
  exitCode: number;
}

export const RUN_DEFAULTS = { profile: 'ci' as const, outDir: 'reports', engine: 'builtin' as const };

/** Invariants the checkers evaluate; the rest a scenario names are evaluated in scenario-invariants.ts. */
const CHECKER_INVARIANTS = new Set<string>(Object.keys(INVARIANTS));

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenario}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function runScenario(opts: RunOptions): Promise<RunOutcome> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const profile = opts.profile ?? RUN_DEFAULTS.profile;
  const resolved = resolveScenario(opts.scenario);
  // The store is in the script's __ENV too, so a scenario can pick the store faults that store has.
  const env: Record<string, string> = { STATEPROOF_PROFILE: profile, ...(opts.target ? {} : { STATEPROOF_STORE: opts.store ?? TOPOLOGY_DEFAULTS.store }), ...opts.env };
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

/**
 * On an external backend, the faults whose target the user gave no access to are left out (and
 * said so); on a topology the harness started, every target exists and a bad one is a plan error.
 */
function reachableFaults(faults: Array<Record<string, unknown>>, targets: ReturnType<Topology['faultTargets']>, external: boolean): { faults: Array<Record<string, unknown>>; skipped: string[] } {
  if (!external) return { faults, skipped: [] };
  const kept: Array<Record<string, unknown>> = [];
  const skipped: string[] = [];
  for (const [i, f] of faults.entries()) {
    const type = String((f.fault as { type?: unknown } | undefined)?.type);
    const target = String(f.target);
    const family = faultFamily(type);
    const reachable =
      family === 'network' ? (targets.proxies ?? []).includes(target) : family === 'store' ? targets.redis !== undefined : target.split(',').every((p) => targets.processes?.[p.trim()] !== undefined);
    if (reachable) kept.push(f);
    else skipped.push(`${String(f.id ?? `f${i}`)} (${type} on ${target})`);
  }
  return { faults: kept, skipped };
}

function topologyFor(spec: ScenarioSpec | undefined, opts: RunOptions, unsafe: string[], log: (l: string) => void): TopologyOptions {
  if (opts.target) {
    const local = [unsafe.length ? '--unsafe' : '', opts.instances !== undefined ? '--instances' : '', opts.router !== undefined ? '--router' : '', opts.store !== undefined ? '--store' : ''].filter(Boolean);
    if (local.length) throw new UsageError(`${local.join(', ')} shape the embedded topology; with --target the backend is yours, so they do not apply. Drop ${local.length > 1 ? 'them' : 'it'} or drop --target.`);
    return { provider: 'external', external: { routerUrl: opts.target, toxiproxyUrl: opts.toxiproxyUrl, redisUrl: opts.redisUrl }, log };
  }
  const t = spec?.topology;
  const instances = opts.instances ?? (Array.isArray(t?.instances) ? t.instances.length : t?.instances) ?? TOPOLOGY_DEFAULTS.instances;
  const perInstance = Array.isArray(t?.instances) ? t.instances : [];
  return {
    provider: 'local',
    store: opts.store,
    // fsync and full_page_writes off for Postgres in the ci profile only; the report says so.
    postgresFastStart: (opts.profile ?? RUN_DEFAULTS.profile) === 'ci',
    instances: Array.from({ length: instances }, (_, i) => ({ schemaVersion: perInstance[i]?.schemaVersion, unsafe })),
    router: opts.router ?? t?.router ?? TOPOLOGY_DEFAULTS.router,
    replica: t?.replica,
    aof: t?.aof,
    redisConfig: t?.redisConfig,
    serviceArgs: t?.serviceArgs,
    toxiproxyUrl: opts.toxiproxyUrl,
    log,
  };
}

function describeTopology(t: TopologyOptions): string {
  const n = Array.isArray(t.instances) ? t.instances.length : t.instances;
  const unsafe = Array.isArray(t.instances) ? t.instances[0]?.unsafe ?? [] : [];
  return `${t.store ?? TOPOLOGY_DEFAULTS.store}, fault proxy, ${n} instance${n === 1 ? '' : 's'} behind a ${t.router} router${unsafe.length ? ` (unsafe: ${unsafe.join(',')})` : ''}`;
}

interface RunContext {
  opts: RunOptions;
  spec: ScenarioSpec | undefined;
  resolved: ReturnType<typeof resolveScenario>;
  env: Record<string, string>;
  runId: string;
  runDir: string;
  unsafe: string[];
  profile: string;
  log: (line: string) => void;
}

async function runAgainst(topology: Topology, ctx: RunContext): Promise<RunOutcome> {
  const { opts, spec, log } = ctx;
  const tenants = Object.entries(topology.tenants);
  const [tenant, token] = tenants[0] ?? ['tenant-a', 'tenant-a-token'];
  const history: HistoryEntry[] = [];
  let nextId = 1;

  // Seeded state is history too: the harness wrote it, so reads that show it show no phantom.
  if (spec?.seed?.v1Sessions && topology.redis) {
    const prefix = spec.seed.sessionPrefix ?? 'seed-';
    await seedV1Sessions(topology.redis.url, { tenant, prefix, count: spec.seed.v1Sessions, turns: 3 });
    const now = Date.now();
    for (let s = 0; s < spec.seed.v1Sessions; s++) {
      for (let t = 0; t < 3; t++) {
        history.push({ id: nextId++, vu: 0, op: 'append', session: `${prefix}${s}`, turnId: `${prefix}${s}-seed-${t}`, intendedStartMs: now, startMs: now, endMs: now, outcome: 'ok', status: 201, code: 'seeded', revision: t + 1, turnCount: t + 1, applied: true, schemaVersion: 1, phase: 'seed' });
      }
    }
  }

  // An external backend without per-instance URLs is scraped at its entry point (the contract
  // serves /metrics there); behind a load balancer that is one instance per scrape, so counters
  // only add up for a single-instance backend.
  const instanceUrls = topology.instances.length
    ? topology.instances.map((i) => ({ id: i.id, url: i.url }))
    : [{ id: 'target', url: topology.routerUrl }];
  const before = new Map<string, string | undefined>();
  await Promise.all(instanceUrls.map(async (i) => before.set(i.id, await scrapeMetrics(i.url))));
  const usedBefore = topology.redis ? await usedMemoryBytes(topology.redis.url) : null;

  const startedAtMs = Date.now();
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  ctx.opts.signal?.addEventListener('abort', onAbort, { once: true });

  let plan: PlanRun | undefined;
  const targets = topology.faultTargets();
  const { faults, skipped } = reachableFaults(spec?.plan.faults ?? [], targets, topology.provider === 'external');
  for (const s of skipped) log(`stateproof: skipping fault ${s}: this backend gives no access to its target (see --toxiproxy-url, --redis-url)`);
  if (faults.length) {
    plan = runPlan({ ...spec!.plan, faults, seed: opts.seed ?? spec!.plan.seed }, targets, { signal: abort.signal });
  }

  // The breaker-state timeline: sampled once a second while the load runs.
  const breakerSamples: BreakerSample[] = [];
  const sampler = setInterval(() => {
    for (const i of instanceUrls) {
      void scrapeMetrics(i.url, 800).then((text) => {
        const state = breakerState(text);
        if (state !== undefined) breakerSamples.push({ offsetMs: Date.now() - startedAtMs, instance: i.id, state });
      });
    }
  }, 1000);

  let liveAnomalies = 0;
  let engineResult;
  try {
    engineResult = await runScript({
      scriptPath: ctx.resolved.scriptPath,
      // A token the user gave (-e STATEPROOF_TOKEN, e.g. for their own backend) wins over the topology's.
      env: { ...ctx.env, STATEPROOF_TARGET: topology.routerUrl, STATEPROOF_TOKEN: ctx.env.STATEPROOF_TOKEN ?? token, STATEPROOF_TENANT: ctx.env.STATEPROOF_TENANT ?? tenant },
      history: {
        record: (e) => {
          // Numbered in place: the entry is the recorder's own, and one object shape keeps the checkers fast.
          const entry = e as HistoryEntry;
          entry.id = nextId++;
          history.push(entry);
          if ((e.status >= 500 && e.status !== 503) || (e.status > 0 && e.mode === undefined)) liveAnomalies++;
        },
      },
      signal: abort.signal,
      phase: plan ? () => plan!.active()[0] : undefined,
      engine: opts.engine,
      k6Path: opts.k6Path,
      onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, activeFaults: plan?.active() ?? [], anomalies: liveAnomalies }) : undefined,
    });
  } finally {
    clearInterval(sampler);
    ctx.opts.signal?.removeEventListener('abort', onAbort);
  }
  const timeline: FaultTimeline = plan ? await plan.stop() : [];
  const endedAtMs = Date.now();
  log(`stateproof: load finished (${history.length} operations recorded); checking`);

  // The three witnesses after the run: metrics, audit trail, store.
  const scrapes: MetricsScrape[] = [];
  for (const i of instanceUrls) {
    const after = await scrapeMetrics(i.url);
    scrapes.push({ instance: i.id, ...(before.get(i.id) !== undefined ? { before: before.get(i.id) } : {}), after: after ?? '' });
  }
  if (topology.instances.length === 0) {
    // Scraped at the entry point: attribute the counters to the one instance that answered, if one did.
    const seen = new Set(history.map((e) => e.instance).filter((i): i is string => i !== undefined));
    if (seen.size === 1 && scrapes[0]) scrapes[0].instance = [...seen][0]!;
  }
  const audit: AuditRecord[] = [];
  for (const p of topology.auditLogPaths) {
    try {
      audit.push(...parseAuditLog(await readFile(p, 'utf8')));
    } catch {
      /* no audit log (external backend, or the instance never wrote one) */
    }
  }
  let store: StoreSnapshot[] | undefined;
  let extras: SnapshotExtras | undefined;
  if (topology.redis) ({ sessions: store, extras } = await snapshotStore(topology.redis.url));
  const usedAfter = topology.redis ? await usedMemoryBytes(topology.redis.url) : null;

  // Checkers. On an external backend a witness the user gave no access to is not consulted, and
  // the invariants that need it are listed as not checked rather than failed or passed blind.
  const unchecked: string[] = [];
  if (topology.provider === 'external') {
    if (audit.length === 0) unchecked.push('audit-agrees');
    if (!store) unchecked.push('store-agrees', 'ttl-set');
  }
  for (const n of unchecked) if (spec?.invariants.includes(n)) log(`stateproof: not checking ${n}: this backend gives no access to its ${n === 'audit-agrees' ? 'audit trail' : 'store (see --redis-url)'}`);
  const named = (spec?.invariants ?? []).filter((n) => !unchecked.includes(n));
  const checkerNames = (named.length ? named.filter((n) => CHECKER_INVARIANTS.has(n)) : undefined) as InvariantName[] | undefined;
  const check = spec?.check ?? {};
  const checkOptions: CheckOptions = {
    invariants: checkerNames,
    windowTurns: check.windowTurns,
    stalenessBoundMs: check.stalenessBoundMs,
    sessionTtlMs: check.ttlSeconds !== undefined ? check.ttlSeconds * 1000 : undefined,
    maxStateBytes: check.maxStateBytes,
    audit: audit.length ? audit : undefined,
    store,
    metrics: scrapes,
    expectedSchemaVersion: named.includes('final-schema-version') ? 3 : undefined,
  };
  const report = checkHistory(history, checkOptions);
  const windows = timeline
    .filter((t) => t.actualStartMs > 0 && faultFamily(t.fault.type) !== 'process')
    .map((t) => ({ id: t.id, family: faultFamily(t.fault.type), startMs: t.actualStartMs, endMs: t.actualEndMs || endedAtMs }));
  const extra = scenarioInvariants(named, { history, store: store ?? [], windows, check, extras });
  const invariants: InvariantResult[] = [...report.invariants, ...extra.invariants];
  const unknownNames = named.filter((n) => !invariants.some((i) => i.name === n));
  for (const n of unknownNames) {
    invariants.push({ name: n, holds: false, description: 'An invariant the scenario names but this harness does not know.', anomalies: [{ type: 'unknown-invariant', message: `no checker is named "${n}"`, ops: [] }] });
  }

  // The result.
  const timelineOut: TimelineEntry[] = timeline.map((t) => ({
    id: t.id,
    target: t.target,
    fault: t.fault as Record<string, unknown>,
    plannedStartMs: t.plannedStartMs,
    plannedEndMs: t.plannedEndMs,
    actualStartMs: t.actualStartMs || null,
    actualEndMs: t.actualEndMs || null,
    verified: t.verified,
    ...(t.detail ? { detail: t.detail } : {}),
    ...(t.undoError || t.error ? { undoError: [t.error, t.undoError].filter(Boolean).join('; ') } : {}),
  }));
  const metrics = { ...metricsFromHistory(history, { startedAtMs, endedAtMs }), droppedIterations: engineResult.droppedIterations };
  const provingIds = new Set(invariants.flatMap((i) => i.anomalies.flatMap((a) => a.ops)));
  const capacity =
    spec?.guards === 'bounds' && store && store.length
      ? projectCapacity(
          measureCapacity({
            bytesPerSession: store.map((s) => s.bytes),
            usedMemoryBaselineBytes: usedBefore,
            usedMemoryEndBytes: usedAfter,
            settings: { windowTurns: check.windowTurns ?? null, ttlSeconds: check.ttlSeconds ?? null, maxStateBytes: check.maxStateBytes ?? null },
          }),
        )
      : null;
  if (capacity) capacity.bytesByTurn = bytesByTurn(history);
  const thresholds = engineResult.thresholds.map((t) => ({ metric: t.metric, expression: t.source, ok: t.ok, observed: String(t.observed) }));
  const abortedReason = engineResult.aborted ? [`run stopped early: ${engineResult.aborted.reason}`] : [];
  const base = {
    runId: ctx.runId,
    scenario: {
      name: spec?.name ?? ctx.resolved.name,
      profile: ctx.profile,
      description: spec?.summary,
      engine: engineResult.engine === 'k6' ? 'k6' : 'built-in',
      backend: opts.backendLabel ?? (opts.target ? redactString(opts.target) : `reference${ctx.unsafe.length ? ` --unsafe ${ctx.unsafe.join(',')}` : ''}`),
    },
    startedAtMs,
    endedAtMs,
    config: { skippedFaults: skipped, uncheckedInvariants: unchecked.filter((n) => spec?.invariants.includes(n)), scenario: opts.scenario, profile: ctx.profile, engine: opts.engine ?? 'builtin', unsafe: ctx.unsafe, seed: opts.seed ?? null, env: opts.env ?? {}, target: opts.target ?? null, spec: spec ?? null },
    topology: {
      provider: topology.provider,
      description: opts.target ? `external backend at ${redactString(opts.target)}` : `${topology.instances.length} instance(s) behind a ${topology.routerPolicy ?? 'router'} router, ${topology.store ? (/^[a-z]/i.test(topology.store.version ?? '') ? topology.store.version : `${topology.store.kind}${topology.store.version ? ` ${topology.store.version}` : ''}`) : 'redis-server'}${topology.redis?.replica ? ' + replica' : ''}${topology.store?.kind === 'postgres' && topology.store.notes.length ? ` (${topology.store.notes.join('; ')})` : ''}, fault proxy`,
      ...(topology.store ? { details: { store: { ...topology.store } } } : {}),
      instances: topology.instances.map((i) => ({ id: i.id, url: i.url, ...(i.schemaVersion !== undefined ? { schemaVersion: i.schemaVersion } : {}), unsafe: [...i.unsafe] })),
      router: topology.routerPolicy,
      proxies: [...(topology.toxiproxy?.proxies ?? [])],
    },
    faultPlan: { ...(spec?.plan.seed !== undefined ? { seed: opts.seed ?? spec.plan.seed } : {}), faults: (spec?.plan.faults ?? []).map((f, i) => ({ id: `f${i}`, ...f })) as Array<{ id: string; at: string | number; duration: string | number; target: string; fault: Record<string, unknown> }> },
    timeline: timelineOut,
    metrics,
    latency: { unit: 'us' as const, histograms: latencyFromHistory(history, timelineOut) },
    invariants,
    provingOps: history.filter((e) => provingIds.has(e.id)),
    stalenessMs: report.stats.staleness.bounded
      ? { p50: report.stats.staleness.bounded.p50Ms, p99: report.stats.staleness.bounded.p99Ms, max: report.stats.staleness.bounded.maxMs, boundMs: check.stalenessBoundMs ?? null }
      : null,
    faults: faultImpacts(history, timelineOut, metrics, startedAtMs).map((f) => {
      const measured = extra.recovery.find((r) => r.faultId === f.faultId);
      return measured ? { ...f, timeToRecoverMs: measured.timeToRecoverMs, recovered: measured.timeToRecoverMs !== null } : f;
    }),
    stateHealth: stateHealthFrom(scrapes, breakerSamples, ctx.unsafe),
    capacity,
    thresholds,
    environment: collectEnvironment({ redis: topology.redis ? await redisVersion(topology.redis.url) : null }),
    historyEntries: history.length,
  };
  const verdict = verdictOf({ invariants, thresholds }, abortedReason);
  const result = createResult({ ...base, verdict });
  await writeReports(result, ctx.runDir, { history });
  // For sceptics: the same history in the form Jepsen's Elle (list-append) checks.
  await writeFile(path.join(ctx.runDir, 'history.edn'), exportElle(history, { windowTurns: check.windowTurns }).edn);
  return { result, runDir: ctx.runDir, exitCode: verdict.exitCode };
}
