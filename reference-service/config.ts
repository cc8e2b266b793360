/**
 * The service's configuration: defaults in one place beside a strict schema (no unknown keys).
 * `resolveConfig()` validates, fills defaults and freezes; both the CLI and `startService()` use it.
 */
import { z } from 'zod';
import { CONSISTENCY_MODES, type Consistency } from '../src/contract/wire.ts';

/**
 * `slot-aware` matters on a Redis Cluster only: off, the service takes the slot map once at start and
 * treats every redirect (MOVED, ASK, a failed-over primary) as an error, as a client that shards by a
 * fixed map would.
 */
export const SAFEGUARDS = ['breaker', 'bounds', 'cas', 'migrations', 'observability', 'slot-aware'] as const;
export type Safeguard = (typeof SAFEGUARDS)[number];
export { CONSISTENCY_MODES, type Consistency };
export const LATEST_SCHEMA_VERSION = 3;

export const DEFAULT_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  'tenant-a-token': 'tenant-a',
  'tenant-b-token': 'tenant-b',
});

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  replicaRedisUrl: undefined as string | undefined,
  instanceId: 'i1',
  schemaVersion: LATEST_SCHEMA_VERSION,
  unsafe: [] as Safeguard[],
  tokens: DEFAULT_TOKENS as Record<string, string>,
  /** pino JSON-lines file; "-" = stdout; undefined = no audit log. */
  auditLog: undefined as string | undefined,
  /** Budget for one store call (breaker on). */
  storeTimeoutMs: 100,
  windowTurns: 10,
  ttlSeconds: 86_400,
  maxTurnBytes: 8_192,
  maxStateBytes: 51_200,
  boundedStalenessMs: 5_000,
  defaultConsistency: 'strong' as Consistency,
  /** "3" fixed, "2-8" uniform, "0" none. */
  modelLatencyMs: '2-5' as string | number,
  /** Requests handled at once; beyond it 503 overloaded + Retry-After. */
  maxInflight: 512,
  /** Transport limit on a request body, whatever the safeguards (413 body_too_large). */
  maxBodyBytes: 1_048_576,
  /** Consecutive store failures that open the breaker. */
  breakerFailures: 5,
  /** How long the breaker stays open before a half-open probe. */
  breakerHalfOpenAfterMs: 1_000,
  /** Retry-After on 503 answers. */
  retryAfterSeconds: 1,
  /** Applied turn ids kept per session for idempotency while bounds are on (unbounded when off). */
  idempotencyWindow: 1_000,
  /** Sessions kept in the local read cache (bounded/eventual reads, degraded fallback). */
  cacheEntries: 10_000,
  /** Compare-and-set attempts for one append (no If-Match) before 503 write_contention. */
  casMaxAttempts: 100,
};

/**
 * Exactly one store: Redis or Valkey (`redisUrl`), a Redis or Valkey cluster (`redisClusterUrl`,
 * redis-cluster://host:port,host:port: seed nodes), or PostgreSQL (`postgresUrl`). `clusterNat` maps
 * the address a cluster node announces to where this instance reaches it ("127.0.0.1:7000" →
 * "127.0.0.1:41000"), for nodes behind a proxy or NAT.
 */
export type ServiceConfig = typeof DEFAULTS & { redisUrl?: string; redisClusterUrl?: string; clusterNat?: Record<string, string>; postgresUrl?: string };

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const CLUSTER_URL = /^redis-cluster:\/\/[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;

/** The seed nodes of a redis-cluster:// URL. */
export function clusterSeeds(url: string): Array<{ host: string; port: number }> {
  return url
    .slice('redis-cluster://'.length)
    .split(',')
    .map((hp) => ({ host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) }));
}

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const schema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
    postgresUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
    redisClusterUrl: z.string().regex(CLUSTER_URL, 'must be redis-cluster://host:port[,host:port…]').optional(),
    clusterNat: z.record(z.string().regex(HOST_PORT, 'host:port'), z.string().regex(HOST_PORT, 'host:port')).optional(),
    replicaRedisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
    instanceId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)'),
    schemaVersion: z.number().int().min(1).max(LATEST_SCHEMA_VERSION),
    unsafe: z.array(z.enum(SAFEGUARDS)),
    tokens: z.record(z.string().min(1), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tenant names: letters, digits, _ - (1-64)')),
    auditLog: z.string().min(1).optional(),
    storeTimeoutMs: positiveInt,
    windowTurns: positiveInt,
    ttlSeconds: positiveInt,
    maxTurnBytes: positiveInt,
    maxStateBytes: positiveInt,
    boundedStalenessMs: nonNegativeInt,
    defaultConsistency: z.enum(CONSISTENCY_MODES),
    modelLatencyMs: z.union([z.number().nonnegative(), z.string()]),
    maxInflight: positiveInt,
    maxBodyBytes: positiveInt,
    breakerFailures: positiveInt,
    breakerHalfOpenAfterMs: positiveInt,
    retryAfterSeconds: positiveInt,
    idempotencyWindow: positiveInt,
    cacheEntries: positiveInt,
    casMaxAttempts: positiveInt,
  })
  .strict()
  .refine((c) => [c.redisUrl, c.redisClusterUrl, c.postgresUrl].filter((u) => u !== undefined).length === 1, { message: 'exactly one store: a redis://, redis-cluster:// or postgres:// URL', path: ['storeUrl'] })
  .refine((c) => c.clusterNat === undefined || c.redisClusterUrl !== undefined, { message: 'an address map goes with a redis-cluster:// store', path: ['clusterNat'] })
  .refine((c) => c.replicaRedisUrl === undefined || c.redisUrl !== undefined, { message: 'a Redis replica goes with a Redis store', path: ['replicaRedisUrl'] });

/** A store URL by its scheme: redis:// or rediss:// (Redis, Valkey), redis-cluster://, postgres:// or postgresql://. */
export function storeUrlConfig(url: string): Pick<ServiceConfig, 'redisUrl' | 'redisClusterUrl' | 'postgresUrl'> {
  if (/^rediss?:\/\//.test(url)) return { redisUrl: url };
  if (url.startsWith('redis-cluster://')) return { redisClusterUrl: url };
  if (/^postgres(ql)?:\/\//.test(url)) return { postgresUrl: url };
  throw new RangeError(`--store-url must be a redis:// (Redis, Valkey), redis-cluster://host:port,… or postgres:// URL; got "${url}"`);
}

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

/** "3" → 3..3, "2-8" → 2..8 (uniform), "0" → none. Throws RangeError naming the value. */
export function parseLatencySpec(spec: string | number): LatencyRange {
  if (typeof spec === 'number') return { minMs: spec, maxMs: spec };
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(spec);
  if (!m) throw new RangeError(`model latency "${spec}" is not "<ms>" or "<min>-<max>" (e.g. "3", "2-8", "0")`);
  const minMs = Number(m[1]);
  const maxMs = m[2] === undefined ? minMs : Number(m[2]);
  if (maxMs < minMs) throw new RangeError(`model latency "${spec}": max is below min`);
  return { minMs, maxMs };
}

export function parseUnsafe(list: string): Safeguard[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SAFEGUARDS as readonly string[]).includes(n)) {
      throw new RangeError(`--unsafe: unknown safeguard "${n}"; choose from ${SAFEGUARDS.join(',')}`);
    }
  }
  return names as Safeguard[];
}

export interface ResolvedConfig extends Readonly<ServiceConfig> {
  readonly latency: LatencyRange;
  /** Which safeguards are on (true) — derived from `unsafe`. */
  readonly safe: Readonly<Record<Safeguard, boolean>>;
}

/** Validates, fills defaults, freezes. Throws RangeError with every problem named. */
export function resolveConfig(input: Partial<ServiceConfig>): ResolvedConfig {
  const merged = { ...DEFAULTS, ...stripUndefined(input) };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new RangeError(`invalid service config: ${problems.join('; ')}`);
  }
  const cfg = parsed.data as ServiceConfig;
  const latency = parseLatencySpec(cfg.modelLatencyMs);
  const safe = Object.fromEntries(SAFEGUARDS.map((s) => [s, !cfg.unsafe.includes(s)])) as Record<Safeguard, boolean>;
  return Object.freeze({ ...cfg, latency, safe: Object.freeze(safe) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
