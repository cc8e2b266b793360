/**
 * POST /v1/sessions/{id}/turns — one exchange:
 *
 *   load (GET state + ZSCORE turnId) ─▶ replay? answer applied:false
 *        │                             ─▶ If-Match differs? 409
 *        ▼
 *   context (window + summary) ─▶ model ─▶ append + compact ─▶ size check (413)
 *        ▼
 *   cas on:  EVALSHA compare-and-set (retry from load on a lost race, unless If-Match)
 *   cas off: SET + ZADD (read-modify-write: a concurrent append in between is lost)
 */
import { ProblemError } from '../errors.ts';
import { encodeEnvelope } from '../schema/envelope.ts';
import { encodeAt } from '../schema/migrate.ts';
import { emptyState, type SessionState } from '../schema/state.ts';
import { appendTurn } from '../safeguards/compact.ts';
import { sessionKey, turnIdsKey } from '../store/keys.ts';
import type { TurnBody } from '../http/input.ts';
import { decodeStored, loadSession, storeCall, StoreUnavailable, unavailable, type Outcome, type ServiceContext } from './context.ts';

export async function appendTurnHandler(ctx: ServiceContext, tenant: string, sessionId: string, body: TurnBody, ifMatch: number | undefined): Promise<Outcome> {
  const { cfg, metrics } = ctx;
  if (cfg.safe.bounds && Buffer.byteLength(body.content) > cfg.maxTurnBytes) {
    metrics.lifecycle('reject');
    throw new ProblemError('state_too_large', `turn content exceeds ${cfg.maxTurnBytes} bytes`);
  }
  const key = sessionKey(tenant, sessionId);
  const idsKey = turnIdsKey(tenant, sessionId);
  let reply: string | undefined;

  for (let attempt = 0; attempt < cfg.casMaxAttempts; attempt++) {
    let loaded;
    try {
      loaded = await loadSession(ctx, tenant, sessionId, body.turnId);
    } catch (e) {
      if (e instanceof StoreUnavailable) throw unavailable(ctx);
      throw e;
    }
    let state: SessionState;
    let revision = 0;
    let storedVersion = cfg.schemaVersion;
    let migrated = false;
    if (loaded.raw === null) {
      if (ctx.cache.get(key)) {
        metrics.lifecycle('expire');
        ctx.cache.delete(key);
      }
      state = emptyState(Date.now());
    } else {
      const d = decodeStored(ctx, loaded.raw);
      state = d.state;
      revision = d.revision;
      storedVersion = d.storedVersion;
      migrated = d.migrated;
    }

    if (loaded.appliedRevision !== null) {
      const t = state.turns.find((x) => x.turnId === body.turnId);
      return {
        status: 200,
        body: { sessionId, revision, schemaVersion: storedVersion, turnCount: state.turnCount, applied: false, reply: t?.assistant ?? '', mode: 'normal' },
        mode: 'normal',
        audit: { result: 'replayed', turnId: body.turnId, revision, turnCount: state.turnCount, schemaVersion: storedVersion },
      };
    }
    if (ifMatch !== undefined && ifMatch !== revision) throw conflict(ctx, ifMatch, revision);

    reply ??= await ctx.model(state, body.content);
    const nowMs = Date.now();
    const next = appendTurn(state, { turnId: body.turnId, user: body.content, assistant: reply, atMs: nowMs }, cfg.safe.bounds ? cfg.windowTurns : undefined);
    const value = encodeEnvelope(cfg.schemaVersion, revision + 1, encodeAt(next, cfg.schemaVersion));
    const bytes = Buffer.byteLength(value);
    if (cfg.safe.bounds && bytes > cfg.maxStateBytes) {
      metrics.lifecycle('reject');
      throw new ProblemError('state_too_large', `session state would be ${bytes} bytes; the limit is ${cfg.maxStateBytes}`);
    }

    try {
      if (cfg.safe.cas) {
        const out = await storeCall(ctx, () =>
          ctx.store.casAppend({
            key,
            idsKey,
            expectedRevision: revision,
            value,
            turnId: body.turnId,
            ttlSeconds: cfg.safe.bounds ? cfg.ttlSeconds : 0,
            maxSchemaVersion: cfg.safe.migrations ? cfg.schemaVersion : 0,
            keepTurnIds: cfg.safe.bounds ? cfg.idempotencyWindow : 0,
            // Half the budget: a script that ran in time still has the other half for its reply to
            // arrive before the service gives up and answers 503. Assumes Redis's clock agrees with
            // ours to well within that (one host, or NTP).
            deadlineMs: ctx.guard.enabled ? Date.now() + Math.max(1, Math.floor(cfg.storeTimeoutMs / 2)) : 0,
          }),
        );
        if (out.status === 'replayed') continue; // the next load answers it as a replay
        if (out.status === 'conflict') {
          if (ifMatch !== undefined) throw conflict(ctx, ifMatch, out.revision);
          continue;
        }
        if (out.status === 'unsupported') {
          metrics.lifecycle('reject');
          throw new ProblemError('unsupported_schema_version', `stored state has schemaVersion ${out.schemaVersion}; this instance knows up to ${cfg.schemaVersion}`);
        }
        if (out.status === 'expired') throw unavailable(ctx);
        if (out.status === 'corrupt') throw new ProblemError('corrupt_state', 'stored state is not an envelope');
      } else {
        await storeCall(ctx, () => ctx.store.naiveSave(key, idsKey, value, body.turnId, revision + 1, cfg.safe.bounds ? cfg.ttlSeconds : 0));
      }
    } catch (e) {
      if (e instanceof StoreUnavailable) throw unavailable(ctx);
      throw e;
    }

    metrics.stateSize(bytes);
    if (revision === 0) metrics.lifecycle('create');
    if (migrated) metrics.lifecycle('migrate');
    ctx.cache.set(key, { state: next, revision: revision + 1, schemaVersion: cfg.schemaVersion, bytes, atMs: nowMs });
    return {
      status: 200,
      body: { sessionId, revision: revision + 1, schemaVersion: cfg.schemaVersion, turnCount: next.turnCount, applied: true, reply, mode: 'normal' },
      mode: 'normal',
      audit: { result: 'applied', turnId: body.turnId, revision: revision + 1, turnCount: next.turnCount, schemaVersion: cfg.schemaVersion },
    };
  }
  throw new ProblemError('write_contention', `gave up after ${cfg.casMaxAttempts} compare-and-set attempts`, cfg.retryAfterSeconds);
}

function conflict(ctx: ServiceContext, ifMatch: number, revision: number): ProblemError {
  ctx.metrics.conflict();
  return new ProblemError('revision_conflict', `If-Match ${ifMatch}, current revision ${revision}`);
}
