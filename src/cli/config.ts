/**
 * Settings shared by `run` and `suite`: defaults in one place, a strict schema, and the merge of
 * stateproof.config.json (or .ts) with flags (flags win). Unknown keys and bad values are usage
 * errors that name the key and what it allows.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';
import { SAFEGUARDS } from '../../reference-service/config.ts';
import { ROUTER_POLICIES } from '../topology/router.ts';
import { importConfigModule } from './config-module.ts';
import { STORE_KINDS } from '../topology/store-kind.ts';
import { PROFILES } from '../../scenarios/lib/spec-types.ts';

export const configSchema = z
  .object({
    profile: z.enum(PROFILES),
    engine: z.enum(['builtin', 'k6']),
    k6: z.string().min(1),
    instances: z.number().int().min(1).max(32),
    router: z.enum(ROUTER_POLICIES),
    store: z.enum(STORE_KINDS),
    unsafe: z.array(z.enum(SAFEGUARDS)),
    seed: z.number().int(),
    /** One URL or a list (the harness's router goes in front of several). */
    target: z.union([z.string().url(), z.array(z.string().url()).min(1)]),
    /**
     * A name: the backend the local topology starts ('reference', or an adapter under backends/, as
     * --backend). An object: a backend profile (the schema of src/backend/profile.ts; validated there).
     */
    backend: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    toxiproxyUrl: z.string().url(),
    redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
    out: z.string().min(1),
    env: z.record(z.string(), z.string()),
  })
  .partial()
  .strict();

export type Settings = z.infer<typeof configSchema>;

export const CONFIG_FILES = ['stateproof.config.json', 'stateproof.config.ts'];

function describeIssue(issue: z.ZodIssue, source: string): string {
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(configSchema.shape);
    return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}. Allowed keys: ${allowed.join(', ')}.${didYouMean(issue.keys[0] ?? '', allowed)}`;
  }
  if (issue.code === 'invalid_enum_value') return `${source}: '${key}' must be one of ${issue.options.join(', ')}; got ${JSON.stringify(issue.received)}.`;
  return `${source}: '${key}' ${issue.message.toLowerCase()}.`;
}

export function validateSettings(input: unknown, source: string): Settings {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => describeIssue(i, source)).join('\n'));
  return parsed.data;
}

/** The config file named by --config, else the first of CONFIG_FILES in `cwd`, else none. */
export async function loadConfigFile(explicit: string | undefined, cwd = process.cwd()): Promise<Settings> {
  const file = explicit ? path.resolve(cwd, explicit) : CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  if (!file) return {};
  if (!existsSync(file)) throw new UsageError(`config file not found: ${explicit}`);
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`${path.basename(file)} is not valid JSON: ${(e as Error).message}`);
    }
  } else if (/\.(ts|js|mjs)$/.test(file)) {
    raw = await importConfigModule(file);
  } else {
    throw new UsageError(`config file must be .json or .ts: ${file}`);
  }
  return validateSettings(raw, path.basename(file));
}

/** -e KEY=VALUE pairs into an env object. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`-e takes KEY=VALUE; got '${p}'`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/** Parse a list flag ("a,b" or repeated) and check each against `allowed`. */
export function parseList<T extends string>(values: readonly string[], allowed: readonly T[], flag: string): T[] {
  const items = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`${flag}: unknown value '${item}'; allowed: ${allowed.join(', ')}.${didYouMean(item, allowed)}`);
  }
  return items as T[];
}

export function parseIntFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}; got '${value}'`);
  return n;
}
