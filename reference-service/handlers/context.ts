/** What every handler gets, and what it hands back to the HTTP layer (response + audit fields). */
import type { ResolvedConfig } from '../config.ts';
import type { Loaded, StateStore } from '../store/state-store.ts';
import { legacyKeys, sessionKey, turnIdsKey } from '../store/keys.ts';
import type { LocalCache } from '../safeguards/cache.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Model } from '../model.ts';
import type { StoreGuard } from '../safeguards/breaker.ts';
import type { AuditResult } from '../../src/contract/audit.ts';
import type { StateMode } from '../../src/contract/wire.ts';
import { ProblemError } from '../errors.ts';
import { CorruptStateError, parseEnvelope } from '../schema/envelope.ts';
import { decodeAt, UnsupportedSchemaError, type Decoded } from '../schema/migrate.ts';
import { SchemaMismatchError } from '../schema/state.ts';

export type Mode = StateMode;

export interface ServiceContext {
  cfg: ResolvedConfig;
  store: StateStore;
  cache: LocalCache;
  metrics: Metrics;
  model: Model;
  guard: StoreGuard;
}

export interface AuditFields {
  result: AuditResult;
  turnId?: string;
  revision?: number;
  turnCount?: number;
  schemaVersion?: number;
}

export interface Outcome {
  status: number;
  body: object | null;
  mode: Mode;
  audit: AuditFields;
  headers?: Record<string, string>;
}

/** A store call failed (timeout, breaker open, connection). Only thrown while the breaker is on. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

/** Runs a store call; with the breaker on any failure becomes StoreUnavailable, off it propagates (→ 500). */
export async function storeCall<T>(ctx: ServiceContext, fn: () => Promise<T>): Promise<T> {
  if (!ctx.guard.enabled) return fn();
  try {
    return await fn();
  } catch (e) {
    throw new StoreUnavailable(e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** Stored value → state at this instance's version, with schema failures mapped to problems. */
export function decodeStored(ctx: ServiceContext, raw: string): Decoded & { revision: number } {
  try {
    const env = parseEnvelope(raw);
    return { ...decodeAt(env, ctx.cfg.schemaVersion, ctx.cfg.safe.migrations), revision: env.revision };
  } catch (e) {
    if (e instanceof UnsupportedSchemaError) {
      ctx.metrics.lifecycle('reject');
      throw new ProblemError('unsupported_schema_version', e.message, undefined, { cause: e });
    }
    if (e instanceof CorruptStateError) throw new ProblemError('corrupt_state', e.message, undefined, { cause: e });
    // Migrations off: the instance assumed its own version and the data did not fit.
    if (e instanceof SchemaMismatchError) throw new ProblemError('internal_error', `cannot parse stored state: ${e.message}`, undefined, { cause: e });
    throw e;
  }
}

export function unavailable(ctx: ServiceContext): ProblemError {
  return new ProblemError('store_unavailable', undefined, ctx.cfg.retryAfterSeconds);
}

/**
 * The session from the primary store; a session only layout 1 holds (keys.ts) is moved to layout 2
 * first, so sessions an older service wrote stay readable and writable. Costs one more round trip
 * when the session does not exist.
 */
export async function loadSession(ctx: ServiceContext, tenant: string, sessionId: string, turnId?: string): Promise<Loaded> {
  const key = sessionKey(tenant, sessionId);
  const idsKey = turnIdsKey(tenant, sessionId);
  const load = () => storeCall(ctx, () => (turnId === undefined ? ctx.store.load(key) : ctx.store.load(key, idsKey, turnId)));
  const loaded = await load();
  if (loaded.raw !== null) return loaded;
  const moved = await storeCall(ctx, () => ctx.store.adoptLegacy(legacyKeys(tenant, sessionId), { key, idsKey }));
  return moved ? load() : loaded;
}
