/**
 * GET /v1/sessions/{id}?consistency=strong|bounded|eventual
 *
 *   strong    the primary store
 *   bounded   the local cache if its copy is at most boundedStalenessMs old, else the primary
 *   eventual  the local cache at any age, else the replica (when configured), else the primary
 *
 * Breaker on and the store unavailable: the cached copy at any age, else an empty default context,
 * both flagged degraded. Breaker off: the error propagates (500).
 */
import { ProblemError } from '../errors.ts';
import type { Consistency } from '../config.ts';
import { summaryText, type SessionState } from '../schema/state.ts';
import { sessionKey } from '../store/keys.ts';
import type { Loaded } from '../store/session-store.ts';
import { decodeStored, loadSession, storeCall, StoreUnavailable, type Mode, type Outcome, type ServiceContext } from './context.ts';

type Source = 'store' | 'replica' | 'cache' | 'default';

export async function readSessionHandler(ctx: ServiceContext, tenant: string, sessionId: string, consistency: Consistency): Promise<Outcome> {
  const { cfg, metrics, cache } = ctx;
  const key = sessionKey(tenant, sessionId);
  const cached = cache.get(key);
  const nowMs = Date.now();

  if (consistency !== 'strong') {
    const fresh = cached !== undefined && (consistency === 'eventual' || nowMs - cached.atMs <= cfg.boundedStalenessMs);
    metrics.cache('local', fresh ? 'hit' : 'miss');
    if (fresh) return view(sessionId, cached.state, cached.revision, cached.schemaVersion, cached.bytes, 'normal', 'cache', nowMs - cached.atMs);
  }

  let loaded: Loaded;
  let source: Source = 'store';
  try {
    if (consistency === 'eventual' && ctx.store.hasReplica) {
      loaded = await loadReplica(ctx, key);
      if (loaded.raw !== null) source = 'replica';
      else loaded = await loadSession(ctx, tenant, sessionId);
    } else {
      loaded = await loadSession(ctx, tenant, sessionId);
    }
  } catch (e) {
    if (!(e instanceof StoreUnavailable)) throw e;
    // Counted once, where the response is sent (http/server.ts), like every degraded answer.
    if (cached) return view(sessionId, cached.state, cached.revision, cached.schemaVersion, cached.bytes, 'degraded', 'cache', nowMs - cached.atMs);
    const empty: SessionState = { turns: [], turnCount: 0, compactedTurns: 0, pinned: [], createdAtMs: 0, updatedAtMs: 0 };
    return view(sessionId, empty, 0, cfg.schemaVersion, 0, 'degraded', 'default');
  }

  if (loaded.raw === null) {
    if (cached) {
      metrics.lifecycle('expire');
      cache.delete(key);
    }
    throw new ProblemError('session_not_found');
  }
  const d = decodeStored(ctx, loaded.raw);
  const bytes = Buffer.byteLength(loaded.raw);
  // Replica copies may lag by any amount: caching them would let a bounded read serve them as fresh.
  if (source === 'store') cache.set(key, { state: d.state, revision: d.revision, schemaVersion: d.storedVersion, bytes, atMs: nowMs });
  return view(sessionId, d.state, d.revision, d.storedVersion, bytes, 'normal', source);
}

/** A replica failure is not a store outage: fall through to the primary. */
async function loadReplica(ctx: ServiceContext, key: string): Promise<Loaded> {
  try {
    const r = await ctx.store.load(key, undefined, undefined, 'replica');
    ctx.metrics.cache('replica', r.raw === null ? 'miss' : 'hit');
    return r;
  } catch {
    ctx.metrics.cache('replica', 'miss');
    return { raw: null, appliedRevision: null };
  }
}

function view(sessionId: string, s: SessionState, revision: number, schemaVersion: number, bytes: number, mode: Mode, source: Source, ageMs?: number): Outcome {
  return {
    status: 200,
    body: {
      sessionId,
      revision,
      schemaVersion,
      turnCount: s.turnCount,
      turns: s.turns,
      summary: summaryText(s.compactedTurns, s.pinned),
      pinned: s.pinned,
      bytes,
      mode,
      source,
      ...(ageMs !== undefined ? { ageMs } : {}),
    },
    mode,
    headers: { etag: `"${revision}"` },
    audit: { result: mode === 'degraded' ? 'degraded' : 'ok', revision, turnCount: s.turnCount, schemaVersion },
  };
}
