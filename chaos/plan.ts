/**
 * A fault plan is plain data: a timeline of `{at, duration, target, fault}` from three families
 * (network toxics and `down` on a proxy, store faults on redis-server, process faults), written
 * into the report as given. Validated with zod, then against the targets a run has, before
 * anything starts; every error names the entry.
 *
 *   { "seed": 7, "faults": [
 *       { "id": "slow-redis", "at": "10s", "duration": "15s", "target": "redis",
 *         "fault": { "type": "latency", "attributes": { "latency": 200, "jitter": 50 } } },
 *       { "at": "40s", "duration": "5s", "target": "redis-server", "fault": { "type": "pause_writes" } } ] }
 */
import { z } from 'zod';
import { UsageError } from '../src/base/errors.ts';
import { storeFaultRefusal, type StoreKind } from './store-kinds.ts';

/** A duration: milliseconds as a number, or "250ms" / "10s" / "1.5m". */
export const durationSchema = z.union([
  z.number().finite().nonnegative({ message: 'must not be negative' }),
  z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m)$/, { message: 'must be milliseconds or a string like "250ms", "10s", "2m"' }),
]);
export type Duration = z.infer<typeof durationSchema>;

export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d)!;
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000;
  return Math.round(Number(m[1]) * unit);
}

const count = z.number().int().nonnegative();
const stream = z.enum(['upstream', 'downstream']).optional();
const toxicity = z.number().min(0).max(1).optional();
const toxic = <T extends string, A extends z.ZodRawShape>(type: T, attributes: A) =>
  z.object({ type: z.literal(type), stream, toxicity, attributes: z.object(attributes).strict() }).strict();

/** Network faults, with Toxiproxy's toxic names and attributes (applied to a proxy). */
export const networkFaultSchemas = [
  toxic('latency', { latency: count, jitter: count.optional() }),
  toxic('bandwidth', { rate: count }),
  toxic('slow_close', { delay: count }),
  toxic('timeout', { timeout: count }),
  toxic('reset_peer', { timeout: count.optional() }),
  toxic('slicer', { average_size: count, size_variation: count.optional(), delay: count.optional() }),
  toxic('limit_data', { bytes: count }),
  z.object({ type: z.literal('down') }).strict(),
] as const;

const memory = z.union([z.number().int().positive(), z.string().regex(/^\d+(b|kb|mb|gb)?$/i, { message: 'must be bytes or like "10mb"' })]);
export const storeFaultSchemas = [
  z.object({ type: z.literal('oom'), maxmemory: memory.optional() }).strict(),
  z.object({ type: z.literal('evict'), maxmemory: memory.optional(), policy: z.enum(['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']).optional() }).strict(),
  z.object({ type: z.literal('pause_writes') }).strict(),
  z.object({ type: z.literal('stall') }).strict(),
  z.object({ type: z.literal('flushall') }).strict(),
  z.object({ type: z.literal('redis_restart'), hard: z.boolean().optional() }).strict(),
  /** Any store's restart: graceful (Redis SIGTERM, Postgres fast shutdown) or, when `hard`, crash-like (kill -9, Postgres immediate shutdown). */
  z.object({ type: z.literal('store_restart'), hard: z.boolean().optional() }).strict(),
  /** Postgres: pg_terminate_backend of every client session, once. */
  z.object({ type: z.literal('terminate_backends') }).strict(),
  /** Postgres: every connection slot (max_connections) held for the fault's duration. */
  z.object({ type: z.literal('connections_exhausted') }).strict(),
  /** kill -9 the primary, promote the replica, re-point the proxies at it (chaos/failover.ts). */
  z.object({ type: z.literal('failover'), proxies: z.array(z.string().min(1)).optional(), detectionDelayMs: count.optional(), dropInFlight: z.boolean().optional() }).strict(),
  /** A cluster: a shard's primary killed (the cluster promotes its replica) or failed over by CLUSTER FAILOVER (chaos/cluster-faults.ts). */
  z.object({ type: z.literal('cluster_failover'), shard: z.number().int().min(1).max(3).optional(), mode: z.enum(['kill', 'manual']).optional() }).strict(),
  /** A cluster: `slots` slots moved from shard `from` to shard `to` under traffic, moved back at the end. */
  z.object({ type: z.literal('reshard'), slots: z.number().int().min(1).max(5_000).optional(), from: z.number().int().min(1).max(3).optional(), to: z.number().int().min(1).max(3).optional() }).strict(),
] as const;

export const processFaultSchemas = [
  z.object({ type: z.literal('kill9') }).strict(),
  z.object({ type: z.literal('sigstop') }).strict(),
  z.object({ type: z.literal('restart'), schemaVersion: z.number().int().positive().optional() }).strict(),
  z.object({ type: z.literal('rolling_restart'), schemaVersion: z.number().int().positive().optional(), gapMs: count.optional() }).strict(),
] as const;

export const faultSchema = z.discriminatedUnion('type', [...networkFaultSchemas, ...storeFaultSchemas, ...processFaultSchemas]);
export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];

export const NETWORK_FAULTS: readonly string[] = networkFaultSchemas.map((s) => s.shape.type.value);
export const STORE_FAULTS: readonly string[] = storeFaultSchemas.map((s) => s.shape.type.value);
export const PROCESS_FAULTS: readonly string[] = processFaultSchemas.map((s) => s.shape.type.value);
/** Faults that happen at an instant; their duration only spaces the timeline. */
export const INSTANT_FAULTS: readonly string[] = ['flushall', 'redis_restart', 'store_restart', 'terminate_backends', 'restart', 'rolling_restart'];

export type FaultFamily = 'network' | 'store' | 'process';
export function faultFamily(type: string): FaultFamily {
  return NETWORK_FAULTS.includes(type) ? 'network' : STORE_FAULTS.includes(type) ? 'store' : 'process';
}

export const planEntrySchema = z
  .object({
    id: z.string().min(1).optional(),
    at: durationSchema,
    duration: durationSchema,
    /** Start up to this much later, chosen by the plan's seed. */
    jitter: durationSchema.optional(),
    /** A proxy name, "redis-server", a process name, or for rolling_restart "i1,i2". */
    target: z.string().min(1),
    fault: faultSchema,
  })
  .strict();
export type PlanEntry = z.infer<typeof planEntrySchema>;

export const planSchema = z.object({ seed: z.number().int().optional(), faults: z.array(planEntrySchema) }).strict();
export type FaultPlan = z.infer<typeof planSchema>;

/** The name of the store target in plans; kept on every store so one plan runs on all of them. */
export const STORE_TARGET = 'redis-server';
/** The store-neutral name of the same target. */
export const STORE_TARGET_ALIAS = 'store';

/** What a run can fault: the names plan entries may target. */
export interface TargetNames {
  proxies?: readonly string[];
  store?: boolean;
  /** Which store it is; store faults it cannot have are refused. Default redis. */
  storeKind?: StoreKind;
  /** The store has a replica a failover can promote. */
  replica?: boolean;
  processes?: readonly string[];
}

function entryName(i: number, entry: { id?: unknown } | undefined): string {
  return typeof entry?.id === 'string' ? `faults[${i}] (id "${entry.id}")` : `faults[${i}]`;
}

/** Process names a rolling restart (or any process fault) covers. */
export function processTargets(target: string): string[] {
  return target.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Two faults on one target that cannot meaningfully overlap share an exclusivity key. */
function exclusivityKeys(entry: PlanEntry): string[] {
  const f = entry.fault;
  switch (faultFamily(f.type)) {
    case 'network':
      // Two toxics of one type on one stream would share Toxiproxy's default name and fight;
      // `down` makes any other fault on the proxy moot.
      return f.type === 'down' ? [`proxy:${entry.target}:*`] : [`proxy:${entry.target}:${f.type}:${'stream' in f ? (f.stream ?? 'downstream') : ''}`];
    case 'store':
      return [`store`];
    case 'process':
      return processTargets(entry.target).map((p) => `process:${p}`);
  }
}

/**
 * Parse and check a plan against the run's targets. Throws UsageError naming the first bad entry:
 * schema errors, unknown targets, overlapping faults that make no sense together.
 */
export function validatePlan(input: unknown, targets: TargetNames): FaultPlan {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [head, index, ...rest] = issue.path;
    const where = head === 'faults' && typeof index === 'number' ? `${entryName(index, (input as { faults?: Array<{ id?: unknown }> }).faults?.[index])}${rest.length ? '.' + rest.join('.') : ''}` : issue.path.join('.') || 'plan';
    throw new UsageError(`fault plan: ${where}: ${issue.message}`);
  }
  const plan = parsed.data;
  const ids = new Set<string>();
  plan.faults.forEach((entry, i) => {
    const name = entryName(i, entry);
    if (entry.id !== undefined) {
      if (ids.has(entry.id)) throw new UsageError(`fault plan: ${name}: duplicate id`);
      ids.add(entry.id);
    }
    const family = faultFamily(entry.fault.type);
    if (family === 'network' && !targets.proxies?.includes(entry.target)) {
      throw new UsageError(`fault plan: ${name}: unknown proxy "${entry.target}" for a ${entry.fault.type} fault; proxies are: ${targets.proxies?.join(', ') || '(none)'}`);
    }
    if (family === 'store' && ((entry.target !== STORE_TARGET && entry.target !== STORE_TARGET_ALIAS) || !targets.store)) {
      throw new UsageError(`fault plan: ${name}: a ${entry.fault.type} fault targets "${STORE_TARGET}" (or "${STORE_TARGET_ALIAS}")${targets.store ? '' : ', and this run has no store to fault'}; got "${entry.target}"`);
    }
    if (family === 'store') {
      const refusal = storeFaultRefusal(targets.storeKind ?? 'redis', entry.fault.type);
      if (refusal) throw new UsageError(`fault plan: ${name}: ${refusal}`);
    }
    if (entry.fault.type === 'reshard' && (entry.fault.from ?? 1) === (entry.fault.to ?? 2)) {
      throw new UsageError(`fault plan: ${name}: a reshard moves slots between two shards; from and to are both ${entry.fault.from ?? 1}`);
    }
    if (entry.fault.type === 'failover') {
      if (!targets.replica) throw new UsageError(`fault plan: ${name}: a failover promotes the replica, and this run has none; start the topology with a replica (scenario topology \`replica: true\`)`);
      const unknown = (entry.fault.proxies ?? []).filter((p) => !targets.proxies?.includes(p));
      if (unknown.length) throw new UsageError(`fault plan: ${name}: a failover cannot re-point unknown prox${unknown.length === 1 ? 'y' : 'ies'} "${unknown.join(', ')}"; proxies are: ${targets.proxies?.join(', ') || '(none)'}`);
    }
    if (family === 'process') {
      const names = processTargets(entry.target);
      if (names.length > 1 && entry.fault.type !== 'rolling_restart') throw new UsageError(`fault plan: ${name}: only rolling_restart takes several processes; got "${entry.target}"`);
      const unknown = names.filter((p) => !targets.processes?.includes(p));
      if (unknown.length) throw new UsageError(`fault plan: ${name}: unknown process "${unknown.join(', ')}"; processes are: ${targets.processes?.join(', ') || '(none)'}`);
    }
    if (!INSTANT_FAULTS.includes(entry.fault.type) && durationMs(entry.duration) <= 0) {
      throw new UsageError(`fault plan: ${name}: a ${entry.fault.type} fault needs a duration above 0`);
    }
  });
  // Overlaps: the latest possible window (with full jitter) must not meet another's on one key.
  const windows = plan.faults.map((e) => {
    const start = durationMs(e.at);
    return { start, end: start + (e.jitter ? durationMs(e.jitter) : 0) + durationMs(e.duration), keys: exclusivityKeys(e) };
  });
  for (let i = 0; i < windows.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = windows[i]!;
      const b = windows[j]!;
      const shared = a.keys.filter((k) => b.keys.includes(k) || (k.endsWith(':*') && b.keys.some((x) => x.startsWith(k.slice(0, -1)))) || b.keys.some((x) => x.endsWith(':*') && k.startsWith(x.slice(0, -1))));
      if (shared.length && a.start < b.end && b.start < a.end) {
        throw new UsageError(`fault plan: ${entryName(i, plan.faults[i])} overlaps ${entryName(j, plan.faults[j])} on target "${plan.faults[i]!.target}" (${plan.faults[i]!.fault.type} during ${plan.faults[j]!.fault.type}); move one so they do not overlap`);
      }
    }
  }
  return plan;
}
