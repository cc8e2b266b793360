/**
 * The last stage: what every other stage produced, put together as the run's result.json (the
 * source of every report), with the verdict the invariants and thresholds decide.
 */
import type { FaultTimeline } from '../../chaos/index.ts';
import { EXIT_INTERRUPTED } from '../base/errors.ts';
import type { EngineResult } from '../engine/types.ts';
import type { HistoryEntry } from '../record/history.ts';
import { collectEnvironment, createResult, verdictOf } from '../report/build.ts';
import { measureCapacity, projectCapacity } from '../report/capacity.ts';
import { faultImpacts } from '../report/derive/fault-impact.ts';
import { latencyFromHistory, metricsFromHistory } from '../report/derive/from-history.ts';
import { bytesByTurn, stateHealthFrom, type BreakerSample } from '../report/derive/state-health.ts';
import { redactString } from '../report/redact.ts';
import type { RunResult, TimelineEntry } from '../report/result-schema.ts';
import type { Interruption } from '../report/verdict.ts';
import type { Topology } from '../topology/index.ts';
import type { CheckedRun } from './check-run.ts';
import type { RunContext } from './run-options.ts';
import { redisVersion } from './store-snapshot.ts';
import type { Witnesses } from './witnesses.ts';

export interface RunRecord {
  ctx: RunContext;
  topology: Topology;
  history: readonly HistoryEntry[];
  /** The whole entries with these ids (default: picked from `history`, which may be a slim copy otherwise). */
  provingOps?: (ids: ReadonlySet<number>) => HistoryEntry[];
  startedAtMs: number;
  endedAtMs: number;
  engine: EngineResult;
  timeline: FaultTimeline;
  skippedFaults: string[];
  breakerSamples: BreakerSample[];
  witnesses: Witnesses;
  checked: CheckedRun;
  /** Set when SIGINT/SIGTERM cut the run short: the verdict is "interrupted", the invariants partial. */
  interrupted?: Interruption;
}

export async function assembleResult(r: RunRecord): Promise<RunResult> {
  const { ctx, topology, history, startedAtMs, endedAtMs, checked } = r;
  const { opts, spec } = ctx;
  const check = spec?.check ?? {};
  const store = r.witnesses.store;
  const timeline = timelineOf(r.timeline);
  const metrics = { ...metricsFromHistory(history, { startedAtMs, endedAtMs }), droppedIterations: r.engine.droppedIterations };
  const provingIds = new Set(checked.invariants.flatMap((i) => i.anomalies.flatMap((a) => a.ops)));
  const capacity =
    spec?.guards === 'bounds' && store && store.length
      ? projectCapacity(
          measureCapacity({
            bytesPerSession: store.map((s) => s.bytes),
            usedMemoryBaselineBytes: r.witnesses.usedMemoryBytes.before,
            usedMemoryEndBytes: r.witnesses.usedMemoryBytes.after,
            keyMemory: r.witnesses.keyMemory,
            shards: r.witnesses.shards,
            settings: { windowTurns: check.windowTurns ?? null, ttlSeconds: check.ttlSeconds ?? null, maxStateBytes: check.maxStateBytes ?? null },
          }),
        )
      : null;
  if (capacity) capacity.bytesByTurn = bytesByTurn(history);
  const thresholds = r.engine.thresholds.map((t) => ({ metric: t.metric, expression: t.source, ok: t.ok, observed: String(t.observed) }));
  // The signal that interrupted the run is the verdict's first reason already; any other early stop
  // (test.abort(), a threshold's abortOnFail) is a reason of its own, and so is a runner lost.
  const lostRunners = (r.engine.runners ?? []).filter((x) => x.status === 'died' || x.status === 'vanished');
  const abortedReason = [
    ...(r.engine.aborted && !(r.interrupted && r.engine.aborted.exitCode === EXIT_INTERRUPTED) ? [`run stopped early: ${r.engine.aborted.reason}`] : []),
    ...lostRunners.map((x) => `${x.id} (segment ${x.segment}) ${x.status}: ${x.problem ?? 'no final metrics'}`),
  ];
  const invariants = r.interrupted ? checked.invariants.map((i) => ({ ...i, partial: true })) : checked.invariants;
  const staleness = checked.stats.staleness.bounded;
  const recovery = checked.stats.recovery ?? [];
  const base = {
    runId: ctx.runId,
    scenario: {
      name: spec?.name ?? ctx.resolved.name,
      profile: ctx.profile,
      description: spec?.summary,
      engine: r.engine.engine === 'k6' ? 'k6' : 'built-in',
      backend: opts.backendLabel ?? (ctx.backend ? redactString(ctx.backend.name) : `reference${ctx.unsafe.length ? ` --unsafe ${ctx.unsafe.join(',')}` : ''}`),
    },
    startedAtMs,
    endedAtMs,
    config: { skippedFaults: r.skippedFaults, uncheckedInvariants: checked.unchecked, scenario: opts.scenario, profile: ctx.profile, engine: opts.engine ?? 'builtin', ...(opts.runners !== undefined ? { runners: opts.runners } : {}), ...(opts.sinkListen ? { sinkListen: `${opts.sinkListen.host}:${opts.sinkListen.port}` } : {}), unsafe: ctx.unsafe, seed: opts.seed ?? null, env: opts.env ?? {}, target: opts.target ?? null, ...(opts.load ? { load: { ...opts.load } } : {}), spec: spec ?? null },
    topology: {
      provider: topology.provider,
      description: topology.provider === 'external' && ctx.backend ? `external backend ${redactString(ctx.backend.name)} at ${ctx.backend.instances.map((u) => redactString(u)).join(', ')}` : `${topology.instances.length}${ctx.adapter ? ` ${ctx.adapter.name}` : ''} instance(s) behind a ${topology.routerPolicy ?? 'router'} router, ${topology.store ? (/^[a-z]/i.test(topology.store.version ?? '') ? topology.store.version : `${topology.store.kind}${topology.store.version ? ` ${topology.store.version}` : ''}`) : 'redis-server'}${topology.redis?.replica ? ' + replica' : ''}${topology.store?.kind === 'postgres' && topology.store.notes.length ? ` (${topology.store.notes.join('; ')})` : ''}, fault proxy`,
      ...(topology.store ? { details: { store: { ...topology.store } } } : {}),
      instances: topology.instances.map((i) => ({ id: i.id, url: i.url, ...(i.schemaVersion !== undefined ? { schemaVersion: i.schemaVersion } : {}), unsafe: [...i.unsafe] })),
      router: topology.routerPolicy,
      proxies: [...(topology.toxiproxy?.proxies ?? [])],
    },
    faultPlan: { ...(spec?.plan.seed !== undefined ? { seed: opts.seed ?? spec.plan.seed } : {}), faults: (spec?.plan.faults ?? []).map((f, i) => ({ id: `f${i}`, ...f })) as Array<{ id: string; at: string | number; duration: string | number; target: string; fault: Record<string, unknown> }> },
    timeline,
    metrics,
    latency: { unit: 'us' as const, histograms: latencyFromHistory(history, timeline) },
    invariants,
    provingOps: r.provingOps ? r.provingOps(provingIds) : history.filter((e) => provingIds.has(e.id)),
    stalenessMs: staleness ? { p50: staleness.p50Ms, p99: staleness.p99Ms, max: staleness.maxMs, boundMs: check.stalenessBoundMs ?? null } : null,
    faults: faultImpacts(history, timeline, metrics, startedAtMs).map((f) => {
      const measured = recovery.find((m) => m.faultId === f.faultId);
      return measured ? { ...f, timeToRecoverMs: measured.timeToRecoverMs, recovered: measured.timeToRecoverMs !== null } : f;
    }),
    stateHealth: stateHealthFrom(r.witnesses.scrapes, r.breakerSamples, ctx.unsafe),
    capacity,
    thresholds,
    environment: collectEnvironment({ redis: topology.redis ? await redisVersion(topology.redis.url) : null, ...(ctx.backend ? { backend: { name: ctx.backend.name, versions: ctx.backend.versions } } : {}) }),
    historyEntries: history.length,
    proxyCost: topology.proxyCost,
    ...(r.engine.runners ? { runners: { count: r.engine.runners.filter((x) => x.kind === 'local').length || 1, runners: r.engine.runners, sink: r.engine.sink ?? null } } : {}),
  };
  const verdict = verdictOf({ invariants, thresholds }, abortedReason, r.interrupted);
  return createResult({ ...base, verdict });
}

function timelineOf(timeline: FaultTimeline): TimelineEntry[] {
  return timeline.map((t) => ({
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
}
