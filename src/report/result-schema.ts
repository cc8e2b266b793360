/**
 * result.json — the one versioned record of a run. Every other output (index.html, summary.md,
 * junit.xml, latency/*.hgrm, compare, capacity) is rendered from it alone, so `stateproof report`
 * can regenerate them byte for byte.
 *
 * The engine and checkers produce their own shapes; the run orchestration maps them into this one.
 * The schema is deliberately plain: numbers, strings, small records. Unknown keys inside the free-form
 * parts (config, topology, fault descriptions) are kept; everything else is strict so a typo in a
 * producer is caught when the file is written, not when someone opens the report.
 *
 * Units: times are epoch milliseconds (`...Ms`) unless named `...OffsetMs` (milliseconds since
 * `startedAtMs`); latency histograms hold MICROSECONDS as integers; rendered latency is milliseconds.
 */
import { z } from 'zod';

export const RESULT_SCHEMA_VERSION = 1 as const;

const count = z.number().int().nonnegative();
// finite: JSON cannot carry Infinity/NaN (they become null), so a result must not hold them.
const nonneg = z.number().finite().nonnegative();
/** Free-form JSON object (config, fault parameters, topology details). */
const jsonObject = z.record(z.string(), z.unknown());

export const ScenarioInfoSchema = z
  .object({
    name: z.string().min(1),
    /** e.g. "ci", "smoke", "soak". */
    profile: z.string().min(1),
    description: z.string().optional(),
    /** "built-in" or "k6". */
    engine: z.string().optional(),
    /** A backend label for compare ("reference", "reference --unsafe cas", "acme-staging"). */
    backend: z.string().optional(),
  })
  .strict();

export const TopologyInstanceSchema = z
  .object({
    id: z.string(),
    url: z.string().optional(),
    schemaVersion: z.number().int().optional(),
    unsafe: z.array(z.string()).optional(),
  })
  .strict();

export const TopologySchema = z
  .object({
    /** "local", "docker", "external". */
    provider: z.string(),
    /** One line a human reads: "2 instances behind a sticky router, redis + replica, AOF on". */
    description: z.string(),
    instances: z.array(TopologyInstanceSchema).default([]),
    router: z.string().optional(),
    redis: jsonObject.optional(),
    proxies: z.array(z.string()).default([]),
    details: jsonObject.optional(),
  })
  .strict();

/** What the fault proxy added to a store round trip at topology start (src/topology/proxy-cost.ts). */
export const ProxyCostSchema = z
  .object({
    samples: count,
    /** The round trip timed, in the store's protocol; absent in results written before Postgres was measured (PING). */
    probe: z.enum(['PING', 'SELECT 1']).optional(),
    /** The proxies the measured round trip crossed, in order. */
    via: z.array(z.string()),
    proxy: z.enum(['embedded', 'toxiproxy']),
    directMs: z.object({ p50: nonneg, p99: nonneg }).strict(),
    proxiedMs: z.object({ p50: nonneg, p99: nonneg }).strict(),
    /** proxied − direct at each percentile, floored at 0. */
    addedMs: z.object({ p50: nonneg, p99: nonneg }).strict(),
  })
  .strict();

export const PlannedFaultSchema = z
  .object({
    id: z.string(),
    /** As written in the plan: "10s" or milliseconds. */
    at: z.union([z.string(), z.number()]),
    duration: z.union([z.string(), z.number()]),
    target: z.string(),
    fault: jsonObject,
  })
  .strict();

export const FaultPlanSchema = z
  .object({ seed: z.number().int().optional(), faults: z.array(PlannedFaultSchema).default([]) })
  .strict();

/** One fault as it actually happened (chaos runner's FaultTimeline entry). */
export const TimelineEntrySchema = z
  .object({
    id: z.string(),
    target: z.string(),
    fault: jsonObject,
    plannedStartMs: nonneg,
    plannedEndMs: nonneg,
    actualStartMs: nonneg.nullable(),
    actualEndMs: nonneg.nullable(),
    verified: z.boolean(),
    /** What the fault runner observed when it applied the fault (e.g. replication lag at a failover). */
    detail: z.string().optional(),
    undoError: z.string().optional(),
  })
  .strict();

export const OpTotalsSchema = z
  .object({ count, ok: count, fail: count, unknown: count, degraded: count.default(0) })
  .strict();

/** One second (or `intervalMs`) of the run. Latency fields are null when nothing completed in it. */
export const SeriesPointSchema = z
  .object({
    offsetMs: nonneg,
    requests: count,
    ok: count,
    errors: count,
    degraded: count.default(0),
    p50Ms: nonneg.nullable(),
    p90Ms: nonneg.nullable(),
    p99Ms: nonneg.nullable(),
    maxMs: nonneg.nullable(),
  })
  .strict();

export const MetricsSchema = z
  .object({
    totals: OpTotalsSchema,
    byOp: z.record(z.string(), OpTotalsSchema).default({}),
    /** HTTP status (as a string, "0" = no response) → count. */
    byStatus: z.record(z.string(), count).default({}),
    /** Mean completed requests per second over the run. */
    throughputPerSec: nonneg,
    errorRate: z.number().min(0).max(1),
    droppedIterations: count.default(0),
    series: z.object({ intervalMs: z.number().int().positive(), points: z.array(SeriesPointSchema) }).strict(),
  })
  .strict();

export const HdrSnapshotSchema = z
  .object({
    /** "append", "read", "delete", or "all". */
    op: z.string(),
    /** "all", "before", "during-<faultId>", "after-<faultId>". */
    phase: z.string(),
    /** Instance id, or "all". */
    instance: z.string(),
    /** corrected: from the intended start (coordinated omission corrected); service: from the actual send. */
    kind: z.enum(['corrected', 'service']),
    count,
    /**
     * Of `count`, the latencies above the histograms' highest trackable value (one hour, see
     * src/record/hdr.ts): each is in the snapshot as exactly that value, so percentiles reaching
     * them read "at least one hour".
     */
    saturated: count.default(0),
    /** hdr-histogram-js encodeIntoCompressedBase64, values in microseconds. */
    snapshot: z.string(),
  })
  .strict();

export const AnomalySchema = z
  .object({
    type: z.string(),
    session: z.string().optional(),
    message: z.string(),
    /** History entry ids that prove it. */
    ops: z.array(z.number().int()),
  })
  .strict();

/**
 * held / violated as measured; not-applicable when the backend lacks the capability or no fault
 * was injected (with the reason); no-evidence when nothing was there to check (it fails the run,
 * as Elle's :unknown is no pass); waived by the backend profile (with the user's reason).
 */
export const INVARIANT_STATUSES = ['held', 'violated', 'not-applicable', 'no-evidence', 'waived'] as const;

export const InvariantSchema = z
  .object({
    name: z.string(),
    holds: z.boolean(),
    description: z.string(),
    anomalies: z.array(AnomalySchema).default([]),
    status: z.enum(INVARIANT_STATUSES).optional(),
    /** What was checked, e.g. "1,204 acknowledged writes in 300 sessions". */
    evidence: z.string().optional(),
    /** Why it is not applicable or waived. */
    reason: z.string().optional(),
    /**
     * Judged over a run that was interrupted: the history (and the witnesses) stop where the run
     * was cut short, so the outcome informs but does not decide the verdict.
     */
    partial: z.boolean().optional(),
  })
  .strict();

/** A history entry embedded for display (the proving operations); the fields of src/record/history.ts. */
export const ProvingOpSchema = z
  .object({
    id: z.number().int(),
    vu: z.number().int(),
    op: z.string(),
    session: z.string(),
    tenant: z.string().optional(),
    turnId: z.string().optional(),
    ifMatch: z.number().optional(),
    consistency: z.string().optional(),
    intendedStartMs: z.number(),
    startMs: z.number(),
    endMs: z.number(),
    outcome: z.string(),
    status: z.number().int(),
    code: z.string().optional(),
    revision: z.number().optional(),
    turnCount: z.number().optional(),
    turnIds: z.array(z.string()).optional(),
    applied: z.boolean().optional(),
    mode: z.string().optional(),
    schemaVersion: z.number().optional(),
    instance: z.string().optional(),
    bytes: z.number().optional(),
    phase: z.string().optional(),
  })
  // Not strict: fields the recorder adds later are dropped here rather than rejected.
  .strip();

export const FaultImpactSchema = z
  .object({
    faultId: z.string(),
    ops: count,
    failed: count,
    unknown: count,
    /**
     * Answered 503 (the contract's "could not make it durable"); counted within failed or unknown
     * as the scenario classified them: a refused write may still have been applied by the store.
     * Absent in results written before it was measured.
     */
    refused: count.optional(),
    degraded: count,
    errorRate: z.number().min(0).max(1),
    affectedSessions: count,
    affectedInstances: z.array(z.string()).default([]),
    p99BeforeMs: nonneg.nullable(),
    p99DuringMs: nonneg.nullable(),
    /** From the fault's actual end until error rate and p99 are back at their before-fault level; null = never within the run. */
    timeToRecoverMs: nonneg.nullable(),
    recovered: z.boolean(),
  })
  .strict();

export const StateHealthSchema = z
  .object({
    /** Prometheus histogram stateproof_state_size_bytes: cumulative buckets as scraped. */
    sizeBytes: z
      .object({
        buckets: z.array(
          z
            .object({
              /** Upper bound in bytes; "+Inf" for the last bucket (Prometheus notation; JSON has no Infinity). */
              le: z.preprocess((v) => (v === Infinity ? '+Inf' : v), z.union([nonneg, z.literal('+Inf')])),
              count,
            })
            .strict(),
        ),
        sum: nonneg,
        count,
      })
      .strict()
      .nullable()
      .default(null),
    conflicts: count.default(0),
    degradedResponses: count.default(0),
    cache: z.array(z.object({ tier: z.string(), hit: count, miss: count }).strict()).default([]),
    /** stateproof_breaker_state sampled over the run: 0 closed, 1 open, 2 half-open. */
    breaker: z
      .array(z.object({ offsetMs: nonneg, instance: z.string(), state: z.union([z.literal(0), z.literal(1), z.literal(2)]) }).strict())
      .default([]),
    lifecycle: z.record(z.string(), count).default({}),
    /** Free-text notes, e.g. "metrics unavailable: --unsafe observability". */
    notes: z.array(z.string()).default([]),
  })
  .strict();

export const CapacityProjectionSchema = z
  .object({
    sessions: z.number().int().positive(),
    payloadP50Bytes: nonneg,
    payloadP99Bytes: nonneg,
    payloadMaxBytes: nonneg,
    /** sessions × measured Redis used_memory per session; null when used_memory was not measured. */
    redisBytes: nonneg.nullable(),
    /** A cluster: what the hottest shard's primary holds, its share of sessions × the total (redisBytes, else payload p99). */
    hottestShardBytes: nonneg.nullable().optional(),
  })
  .strict();

export const CapacitySchema = z
  .object({
    /** What the run measured. */
    measured: z
      .object({
        sessions: count,
        bytesPerSession: z.object({ p50: nonneg, p99: nonneg, max: nonneg }).strict(),
        /** (used_memory at end − used_memory before load) / sessions; null if not sampled. */
        usedMemoryPerSessionBytes: nonneg.nullable(),
        usedMemoryBaselineBytes: nonneg.nullable().default(null),
        usedMemoryEndBytes: nonneg.nullable().default(null),
        /**
         * Redis MEMORY USAGE by key kind at the end of the run ("state", "turn-id index", "other"):
         * `sampledKeys` of `keys` were measured, `bytes` is their mean × `keys`. Null if not sampled.
         */
        keyMemory: z
          .array(z.object({ kind: z.string(), keys: count, sampledKeys: count, bytes: nonneg }).strict())
          .nullable()
          .default(null),
        /** A cluster: what each primary held at the end of the run (sessions by their hash tag's slot). */
        shards: z
          .array(z.object({ node: z.string(), slots: count, sessions: count, usedMemoryBytes: nonneg.nullable() }).strict())
          .optional(),
      })
      .strict(),
    /** The service settings the run used. */
    settings: z
      .object({
        windowTurns: z.number().int().positive().nullable(),
        ttlSeconds: z.number().positive().nullable(),
        maxStateBytes: z.number().int().positive().nullable().default(null),
        /**
         * The TTL the backend declares for production (its profile), as opposed to `ttlSeconds`, the
         * one this run's scenario set for the test. Only a declared TTL may stand in for
         * `capacity --ttl-seconds`.
         */
        declaredTtlSeconds: z.number().positive().nullable().default(null),
      })
      .strict(),
    /** The settings projected to (may differ from the run's: then a scaling assumption applies). */
    projectedSettings: z
      .object({ windowTurns: z.number().int().positive().nullable(), ttlSeconds: z.number().positive().nullable(), sessionsPerHour: nonneg.nullable() })
      .strict()
      .optional(),
    projections: z.array(CapacityProjectionSchema).default([]),
    /** State size as sessions grew: bytes the service reported at each turn-count bucket (reads). */
    bytesByTurn: z
      .array(z.object({ fromTurn: count, toTurn: count, reads: count, p50Bytes: nonneg, maxBytes: nonneg }).strict())
      .default([]),
    /** 1 GiB ÷ per-session bytes. */
    sessionsPerGiB: z.object({ byPayloadP99: nonneg.nullable(), byRedisUsedMemory: nonneg.nullable() }).strict().optional(),
    assumptions: z.array(z.string()).default([]),
  })
  .strict();

export const ThresholdSchema = z
  .object({ metric: z.string(), expression: z.string(), ok: z.boolean(), observed: z.string().optional() })
  .strict();

export const EnvironmentSchema = z
  .object({
    node: z.string(),
    redis: z.string().nullable().default(null),
    k6: z.string().nullable().default(null),
    os: z.string(),
    arch: z.string(),
    cpus: z.number().int().positive(),
    cpuModel: z.string().optional(),
    memoryBytes: nonneg,
    gitCommit: z.string().nullable().default(null),
    /** The backend under test as its profile names it, with the library and store versions it declares. */
    backend: z.object({ name: z.string(), versions: z.record(z.string(), z.string()) }).strict().optional(),
    stateproofVersion: z.string().optional(),
  })
  .strict();

/** One runner of a run whose load was split (--runners) or came from other machines (--sink-listen). */
export const RunnerSchema = z
  .object({
    id: z.string(),
    segment: z.string().nullable(),
    kind: z.enum(['local', 'remote']),
    status: z.enum(['done', 'died', 'vanished', 'remote']),
    requests: count.nullable(),
    iterations: count.nullable(),
    entries: count,
    batches: count,
    lastBatchAtMs: nonneg.nullable(),
    exitCode: z.number().int().nullable(),
    problem: z.string().optional(),
  })
  .strict();

export const RunnersSchema = z
  .object({
    count: count,
    runners: z.array(RunnerSchema),
    /** The history sink's book: what it applied, answered as duplicates, and refused by reason. */
    sink: z
      .object({ listen: z.string(), runId: z.string(), entries: count, batches: count, duplicateBatches: count, rejected: z.record(z.string(), count), rejectedEntries: count })
      .strict()
      .nullable(),
  })
  .strict();

export const VerdictSchema = z
  .object({
    pass: z.boolean(),
    /** 0 pass, 1 invariant or threshold failed, 105 interrupted (as the CLI exits). */
    exitCode: z.number().int(),
    /** One line per reason, most important first ("lost-write: 3 anomalies", "threshold p99<500 failed"). */
    reasons: z.array(z.string()).default([]),
    /**
     * Present when SIGINT/SIGTERM cut the run short: neither pass nor fail. `stage` is where the
     * signal arrived (during the load, or after it while the witnesses were read and checked);
     * `afterMs` is how long the load had run by then, of `plannedMs`.
     */
    interrupted: z
      .object({ signal: z.string(), stage: z.enum(['load', 'check']), afterMs: nonneg, plannedMs: nonneg.nullable() })
      .strict()
      .optional(),
  })
  .strict();

export const RunResultSchema = z
  .object({
    schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
    runId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'runId must be usable as a directory name'),
    scenario: ScenarioInfoSchema,
    startedAtMs: nonneg,
    endedAtMs: nonneg,
    /** The resolved run config, frozen and passed through redact() before it lands here. */
    config: jsonObject,
    topology: TopologySchema,
    /** Optional (added in schema 1): absent where the harness did not measure it (external, docker). */
    proxyCost: ProxyCostSchema.optional(),
    /** Optional (added in schema 1): present when the load came from runners (--runners, --sink-listen). */
    runners: RunnersSchema.optional(),
    faultPlan: FaultPlanSchema,
    timeline: z.array(TimelineEntrySchema).default([]),
    metrics: MetricsSchema,
    latency: z.object({ unit: z.literal('us'), histograms: z.array(HdrSnapshotSchema) }).strict(),
    invariants: z.array(InvariantSchema).default([]),
    /** History entries referenced by anomalies, for the report (the full history is history.json). */
    provingOps: z.array(ProvingOpSchema).default([]),
    /** Bounded-staleness measured by the checkers, when the scenario used bounded reads. */
    stalenessMs: z.object({ p50: nonneg, p99: nonneg, max: nonneg, boundMs: nonneg.nullable() }).strict().nullable().default(null),
    faults: z.array(FaultImpactSchema).default([]),
    stateHealth: StateHealthSchema.nullable().default(null),
    capacity: CapacitySchema.nullable().default(null),
    thresholds: z.array(ThresholdSchema).default([]),
    environment: EnvironmentSchema,
    verdict: VerdictSchema,
    /** Number of entries in history.json beside result.json (0 = none written). */
    historyEntries: count.default(0),
  })
  .strict();

export type RunResult = z.infer<typeof RunResultSchema>;
/** What producers write: defaults may be left out. */
export type RunResultInput = z.input<typeof RunResultSchema>;
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type HdrSnapshot = z.infer<typeof HdrSnapshotSchema>;
export type Invariant = z.infer<typeof InvariantSchema>;
export type Anomaly = z.infer<typeof AnomalySchema>;
export type FaultImpact = z.infer<typeof FaultImpactSchema>;
export type StateHealth = z.infer<typeof StateHealthSchema>;
export type Capacity = z.infer<typeof CapacitySchema>;
export type CapacityProjection = z.infer<typeof CapacityProjectionSchema>;
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;
export type Metrics = z.infer<typeof MetricsSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type ProvingOp = z.infer<typeof ProvingOpSchema>;
export type ProxyCostResult = z.infer<typeof ProxyCostSchema>;
export type RunnersResult = z.infer<typeof RunnersSchema>;

/** Validate a result (fills defaults). Throws a ZodError naming each bad field. */
export function parseResult(input: unknown): RunResult {
  return RunResultSchema.parse(input);
}

/** The same, returning the problems as lines a user can act on instead of throwing. */
export function checkResult(input: unknown): { ok: true; result: RunResult } | { ok: false; problems: string[] } {
  const r = RunResultSchema.safeParse(input);
  if (r.success) return { ok: true, result: r.data };
  return { ok: false, problems: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}
