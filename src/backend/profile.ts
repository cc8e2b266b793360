/**
 * The backend profile: what a backend says about itself, so the harness judges it by the contract
 * and its own declarations, never by what the reference service happens to do.
 *
 *   stateproof.backend.json │ config `backend` │ --backend-profile FILE │ --target URL…
 *                └──────────── parse (strict zod, messages naming the field) ────────────┘
 *                                              ▼
 *                         BackendProfile (declared; every field optional)
 *                                              ▼  resolveProfile: the contract's minimum
 *                         ResolvedProfile (what each invariant reads)
 *
 * Every field is optional; an absent one means the contract's minimum: one instance, one tenant,
 * no bound declared, no optional capability, the reference metric names. A missing safeguard is
 * still judged (it is a violation with its consequence measured); an absent capability makes the
 * invariants that need it "not applicable"; a waiver carries the user's reason into the report.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';

export const PROFILE_FILE = 'stateproof.backend.json';
export const READ_MODES = ['strong', 'bounded', 'eventual'] as const;
export const ROUTER_CHOICES = ['sticky', 'round-robin', 'random'] as const;

/** The state-health concepts a backend may export metrics for, with the reference service's names. */
export const METRIC_CONCEPTS = {
  opLatency: 'stateproof_state_op_duration_seconds',
  stateSize: 'stateproof_state_size_bytes',
  conflicts: 'stateproof_state_conflicts_total',
  cacheHits: 'stateproof_state_cache_total',
  lifecycleEvents: 'stateproof_state_lifecycle_events_total',
  breakerState: 'stateproof_breaker_state',
  degradedResponses: 'stateproof_degraded_responses_total',
} as const;
export type MetricConcept = keyof typeof METRIC_CONCEPTS;

const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^/\s]+/.test(v), { message: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:8080' })
  .transform((v) => v.replace(/\/+$/, ''));

const seconds = (what: string) =>
  z.number({ invalid_type_error: `must be a number of seconds${what}` }).positive({ message: `must be a positive number of seconds${what}` });

const metricRef = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), labels: z.record(z.string(), z.string()).optional() }).strict(),
]);

export const backendProfileSchema = z
  .object({
    /** Shown in reports, e.g. "langgraph-postgres". */
    name: z.string().min(1),
    /** One URL or a list; with a list, the harness's router goes in front of them. */
    instances: z.union([httpUrl, z.array(httpUrl).min(1, { message: 'must list at least one URL' })]),
    router: z.enum(ROUTER_CHOICES),
    /** Bearer tokens, one per tenant; two or more turn tenant isolation on. */
    tenants: z.array(z.string().min(1, { message: 'a token must not be empty' })).min(1, { message: 'must list at least one token' }),
    bounds: z
      .object({
        windowTurns: z.number().int({ message: 'must be a whole number of turns' }).min(1, { message: 'must be at least 1 turn' }),
        /** null: the backend declares that sessions never expire. */
        ttlSeconds: seconds(', or null for no TTL').nullable(),
        maxStateBytes: z.number().int({ message: 'must be a whole number of bytes' }).positive({ message: 'must be a positive number of bytes' }),
        maxTurnBytes: z.number().int({ message: 'must be a whole number of bytes' }).positive({ message: 'must be a positive number of bytes' }),
        stalenessBoundMs: z.number({ invalid_type_error: 'must be a number of milliseconds' }).min(0, { message: 'must be 0 or more milliseconds' }),
      })
      .partial()
      .strict(),
    capabilities: z
      .object({
        /** If-Match on appends (compare-and-set). */
        conditionalAppend: z.boolean(),
        readModes: z.array(z.enum(READ_MODES)).min(1),
        summary: z.boolean(),
        pinnedFacts: z.boolean(),
        /** Serves flagged degraded answers when its store fails. */
        degradedMode: z.boolean(),
        /** State schema versions it reads and writes. */
        schemaVersions: z.array(z.number().int().positive()).min(1),
      })
      .partial()
      .strict(),
    metrics: z.object(Object.fromEntries(Object.keys(METRIC_CONCEPTS).map((k) => [k, metricRef])) as Record<MetricConcept, typeof metricRef>).partial().strict(),
    /** Invariants not required, each with the reason the report shows. */
    waive: z.record(z.string(), z.string().min(1, { message: 'needs a reason (the report shows it)' })),
    /** Where faults can be injected: a Toxiproxy the backend's links go through, its store. */
    access: z
      .object({ toxiproxyUrl: httpUrl, redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL') })
      .partial()
      .strict(),
    /** Library and store versions, recorded in result.json and shown in reports. */
    versions: z.record(z.string(), z.string()),
  })
  .partial()
  .strict();

export type BackendProfile = z.infer<typeof backendProfileSchema>;

export interface ResolvedProfile {
  name: string;
  instances: string[];
  router: (typeof ROUTER_CHOICES)[number];
  tenants: string[];
  bounds: { windowTurns?: number; ttlSeconds?: number | null; maxStateBytes?: number; maxTurnBytes?: number; stalenessBoundMs?: number };
  capabilities: {
    conditionalAppend: boolean;
    readModes: Array<(typeof READ_MODES)[number]>;
    summary: boolean;
    pinnedFacts: boolean;
    degradedMode: boolean;
    schemaVersions: number[];
  };
  /** Concept -> the names to look for (the backend's own first, then the reference name). */
  metrics: Record<MetricConcept, { names: string[]; labels?: Record<string, string> }>;
  waive: Record<string, string>;
  access: { toxiproxyUrl?: string; redisUrl?: string };
  versions: Record<string, string>;
  /** Where the profile came from, for messages and the report. */
  source: string;
}

/** Parse a profile; errors name the field and say what it takes. `invariants` checks waiver names. */
export function parseProfile(input: unknown, source: string, invariants: readonly string[]): BackendProfile {
  const parsed = backendProfileSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => describeIssue(i, source)).join('\n'));
  for (const name of Object.keys(parsed.data.waive ?? {})) {
    if (!invariants.includes(name)) throw new UsageError(`${source}: waive: unknown invariant '${name}'.${didYouMean(name, invariants)} Known: ${invariants.join(', ')}.`);
  }
  return parsed.data;
}

function describeIssue(issue: z.ZodIssue, source: string): string {
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${[...issue.path, k].join('.')}'`).join(', ')}. Allowed here: ${allowed.join(', ')}.${didYouMean(issue.keys[0] ?? '', allowed)}`;
  }
  if (issue.code === 'invalid_enum_value') return `${source}: '${key}' must be one of ${issue.options.join(', ')}; got ${JSON.stringify(issue.received)}.`;
  if (issue.code === 'invalid_type' && issue.received === 'string' && issue.expected === 'number')
    return `${source}: '${key}' must be a number, not a string (write 5, not "5s"); ${issue.message}.`;
  if (issue.code === 'invalid_union') return `${source}: '${key}' must be one URL or a list of URLs (http://host:port).`;
  return `${source}: '${key}' ${issue.message}.`;
}

function allowedKeysAt(at: ReadonlyArray<string | number>): string[] {
  const shape = backendProfileSchema.shape;
  if (at.length === 0) return Object.keys(shape);
  const inner = (shape as Record<string, z.ZodTypeAny>)[String(at[0])];
  const obj = inner instanceof z.ZodOptional ? inner.unwrap() : inner;
  return obj instanceof z.ZodObject ? Object.keys(obj.shape as object) : [];
}

/** The contract's minimum, filled in under what the profile declares. */
export function resolveProfile(p: BackendProfile, source: string): ResolvedProfile {
  const instances = p.instances === undefined ? [] : Array.isArray(p.instances) ? p.instances : [p.instances];
  const metrics = {} as ResolvedProfile['metrics'];
  for (const [concept, reference] of Object.entries(METRIC_CONCEPTS) as Array<[MetricConcept, string]>) {
    const own = p.metrics?.[concept];
    const ownName = typeof own === 'string' ? own : own?.name;
    metrics[concept] = { names: ownName && ownName !== reference ? [ownName, reference] : [reference], ...(typeof own === 'object' && own.labels ? { labels: own.labels } : {}) };
  }
  const caps = p.capabilities ?? {};
  return {
    name: p.name ?? (instances[0] ? new URL(instances[0]).host : 'backend'),
    instances,
    router: p.router ?? 'round-robin',
    tenants: p.tenants ?? [],
    bounds: { ...p.bounds },
    capabilities: {
      conditionalAppend: caps.conditionalAppend ?? false,
      readModes: caps.readModes ?? ['strong'],
      summary: caps.summary ?? false,
      pinnedFacts: caps.pinnedFacts ?? false,
      degradedMode: caps.degradedMode ?? false,
      schemaVersions: caps.schemaVersions ?? [],
    },
    metrics,
    waive: { ...p.waive },
    access: { ...p.access },
    versions: { ...p.versions },
    source,
  };
}

/**
 * Where the profile comes from: --backend-profile FILE, else the config's `backend` key, else
 * ./stateproof.backend.json when it exists; none of them is an empty profile.
 */
export async function loadProfile(
  opts: { file?: string; fromConfig?: unknown; cwd?: string },
  invariants: readonly string[],
): Promise<{ profile: BackendProfile; source: string } | undefined> {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file !== undefined) {
    const file = path.resolve(cwd, opts.file);
    if (!existsSync(file)) throw new UsageError(`--backend-profile: no such file: ${opts.file}. Write a ${PROFILE_FILE} (see README, "Pointing it at your own backend").`);
    return { profile: parseProfile(await readJson(file), path.basename(file), invariants), source: file };
  }
  if (opts.fromConfig !== undefined) return { profile: parseProfile(opts.fromConfig, "the config's 'backend' key", invariants), source: 'config: backend' };
  const file = path.join(cwd, PROFILE_FILE);
  if (existsSync(file)) return { profile: parseProfile(await readJson(file), PROFILE_FILE, invariants), source: file };
  return undefined;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path.basename(file)} is not valid JSON: ${(e as Error).message}`);
  }
}

/** `--target a --target b,c` as one list; bad URLs are usage errors naming the flag. */
export function parseTargets(values: readonly string[]): string[] {
  const urls = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  return urls.map((u) => {
    const r = httpUrl.safeParse(u);
    if (!r.success) throw new UsageError(`--target: '${u}' is not an http:// or https:// URL. Example: --target http://127.0.0.1:8080`);
    return r.data;
  });
}
