/**
 * Session storage on PostgreSQL (node-postgres pool), with the Redis store's calls and semantics
 * (session-store.ts). Every call goes through the store guard (timeout budget + breaker, or bare)
 * and is timed into stateproof_state_op_duration_seconds with tier "postgres".
 *
 *   load      SELECT the live row + its turn id (one query, one round trip)
 *   casAppend SELECT sp_cas_append(…) of pg-schema.ts (one statement: one transaction)
 *   naiveSave upsert the row, then upsert the turn id (cas off: no revision guard, not atomic)
 *   remove    DELETE the row (its turn ids go with it)
 *
 * The schema is created on first use (and retried while the store is unreachable); rows past their
 * expires_at are invisible at once and swept every `sweepIntervalMs`.
 */
import pg from 'pg';
import type { StoreGuard } from '../safeguards/breaker.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CAS_STATUS } from './cas-script.ts';
import { DEADLINE_SQLSTATE, SCHEMA_LOCK_ID, SCHEMA_PRESENT_SQL, SCHEMA_SQL } from './pg-schema.ts';
import type { CasArgs, CasOutcome, Loaded, SessionKeys, StateStore } from './state-store.ts';

export const PG_STORE_DEFAULTS = {
  /** Connections per instance. */
  poolSize: 10,
  connectTimeoutMs: 2_000,
  idleTimeoutMs: 30_000,
  sweepIntervalMs: 30_000,
  readyProbeTimeoutMs: 500,
} as const;

const ENVELOPE_VERSION = /^\{"schemaVersion":(\d+),/;

export class PgSessionStore implements StateStore {
  readonly hasReplica = false;
  private schema: Promise<void> | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly guard: StoreGuard,
    private readonly metrics: Metrics,
    sweepIntervalMs: number = PG_STORE_DEFAULTS.sweepIntervalMs,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), sweepIntervalMs);
    this.sweeper.unref();
  }

  static create(url: string, onError: (e: Error) => void): pg.Pool {
    const pool = new pg.Pool({
      connectionString: url,
      max: PG_STORE_DEFAULTS.poolSize,
      connectionTimeoutMillis: PG_STORE_DEFAULTS.connectTimeoutMs,
      idleTimeoutMillis: PG_STORE_DEFAULTS.idleTimeoutMs,
      keepAlive: true,
    });
    // An idle client whose connection dies (terminated backend, cut link) is dropped by the pool.
    pool.on('error', onError);
    return pool;
  }

  /** Creates the tables and the function once; a failed attempt is retried by the next call. */
  ensureSchema(): Promise<void> {
    this.schema ??= this.transaction(async (c) => {
      if ((await c.query<{ present: boolean }>(SCHEMA_PRESENT_SQL)).rows[0]?.present === true) return;
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
      await c.query(SCHEMA_SQL);
    }).catch((e: unknown) => {
      this.schema = undefined;
      throw e;
    });
    return this.schema;
  }

  /**
   * One transaction on a checked-out client. The pool listens for errors only on idle clients: a
   * checked-out one whose connection dies (a cut link, a terminated backend) emits 'error' on
   * itself, which unheard would end the process. Heard, the query rejects, and the broken client
   * is destroyed on release instead of going back to the pool.
   */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => {
      broken = e;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      broken ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.ensureSchema();
    return this.pool.query<R>(text, values);
  }

  async load(key: string, _idsKey?: string, turnId?: string): Promise<Loaded> {
    const t0 = performance.now();
    const result = await this.guard.run(async () => {
      const { rows } =
        turnId === undefined
          ? await this.query<{ value: string; applied: string | null }>(`SELECT value, NULL AS applied FROM sp_sessions WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())`, [key])
          : await this.query<{ value: string; applied: string | null }>(
              `SELECT s.value, t.revision AS applied FROM sp_sessions s LEFT JOIN sp_turn_ids t ON t.key = s.key AND t.turn_id = $2
                WHERE s.key = $1 AND (s.expires_at IS NULL OR s.expires_at > now())`,
              [key, turnId],
            );
      const row = rows[0];
      return { raw: row?.value ?? null, appliedRevision: row?.applied == null ? null : Number(row.applied) };
    });
    this.metrics.opDuration('load', 'postgres', (performance.now() - t0) / 1000);
    return result;
  }

  async casAppend(a: CasArgs): Promise<CasOutcome> {
    const t0 = performance.now();
    let row: { status: number; revision: string; schema_version: number } | undefined;
    try {
      row = await this.guard.run(async () => {
        const { rows } = await this.query<{ status: number; revision: string; schema_version: number }>(`SELECT status, revision, schema_version FROM sp_cas_append($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
          a.key,
          a.expectedRevision,
          a.value,
          a.turnId,
          a.ttlSeconds,
          a.maxSchemaVersion,
          a.keepTurnIds,
          a.deadlineMs,
          versionOf(a.value),
        ]);
        return rows[0];
      });
    } catch (e) {
      if ((e as { code?: string }).code === DEADLINE_SQLSTATE) row = { status: CAS_STATUS.expired, revision: '0', schema_version: 0 };
      else throw e;
    } finally {
      this.metrics.opDuration('save', 'postgres', (performance.now() - t0) / 1000);
    }
    const revision = Number(row?.revision ?? 0);
    switch (row?.status) {
      case CAS_STATUS.applied:
        return { status: 'applied', revision };
      case CAS_STATUS.replayed:
        return { status: 'replayed', revision };
      case CAS_STATUS.conflict:
        return { status: 'conflict', revision };
      case CAS_STATUS.unsupported:
        return { status: 'unsupported', schemaVersion: row.schema_version };
      case CAS_STATUS.expired:
        return { status: 'expired' };
      default:
        return { status: 'corrupt' };
    }
  }

  /** The naive write (cas off): whatever was computed from the earlier read wins. */
  async naiveSave(key: string, _idsKey: string, value: string, turnId: string, revision: number, ttlSeconds: number): Promise<void> {
    const t0 = performance.now();
    const expires = ttlSeconds > 0 ? `now() + make_interval(secs => ${Math.floor(ttlSeconds)})` : 'NULL';
    await this.guard.run(async () => {
      await this.query(`DELETE FROM sp_sessions WHERE key = $1 AND expires_at <= now()`, [key]);
      await this.query(
        `INSERT INTO sp_sessions (key, value, revision, schema_version, expires_at) VALUES ($1, $2, $3, $4, ${expires})
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision, schema_version = EXCLUDED.schema_version, expires_at = EXCLUDED.expires_at`,
        [key, value, revision, versionOf(value)],
      );
      await this.query(`INSERT INTO sp_turn_ids (key, turn_id, revision) VALUES ($1, $2, $3) ON CONFLICT (key, turn_id) DO UPDATE SET revision = EXCLUDED.revision`, [key, turnId, revision]);
    });
    this.metrics.opDuration('save', 'postgres', (performance.now() - t0) / 1000);
  }

  /** True when a live session existed. */
  async remove(key: string, _idsKey?: string, legacy?: SessionKeys): Promise<boolean> {
    const t0 = performance.now();
    const { rows } = await this.guard.run(() => this.query<{ live: boolean }>(`DELETE FROM sp_sessions WHERE key = ANY($1) RETURNING (expires_at IS NULL OR expires_at > now()) AS live`, [[key, ...(legacy ? [legacy.key] : [])]]));
    this.metrics.opDuration('delete', 'postgres', (performance.now() - t0) / 1000);
    return rows.some((r) => r.live);
  }

  /** Layout 1 → 2 in one transaction: copy the live row and its turn ids unless the new row exists, then drop the old. */
  async adoptLegacy(from: SessionKeys, to: SessionKeys): Promise<boolean> {
    const t0 = performance.now();
    const moved = await this.guard.run(async () => {
      await this.ensureSchema();
      return this.transaction(async (c) => {
        const { rowCount } = await c.query(
          `INSERT INTO sp_sessions (key, value, revision, schema_version, expires_at)
             SELECT $2, value, revision, schema_version, expires_at FROM sp_sessions WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())
             ON CONFLICT (key) DO NOTHING`,
          [from.key, to.key],
        );
        if (rowCount) await c.query(`INSERT INTO sp_turn_ids (key, turn_id, revision) SELECT $2, turn_id, revision FROM sp_turn_ids WHERE key = $1 ON CONFLICT DO NOTHING`, [from.key, to.key]);
        const { rowCount: old } = await c.query(`DELETE FROM sp_sessions WHERE key = $1`, [from.key]);
        return (rowCount ?? 0) > 0 || (old ?? 0) > 0;
      });
    });
    // Timed only when it moved a session: a miss is the common case, and load already counted it.
    if (moved) this.metrics.opDuration('load', 'postgres', (performance.now() - t0) / 1000);
    return moved;
  }

  /** "ready" when a query answers within the probe timeout; else what went wrong. */
  async status(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.query('SELECT 1', []),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), PG_STORE_DEFAULTS.readyProbeTimeoutMs))),
      ]);
      return 'ready';
    } catch (e) {
      return `not answering (${(e as Error).message})`;
    } finally {
      clearTimeout(timer);
    }
  }

  async sweep(): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM sp_sessions WHERE expires_at <= now()`, []);
    return rowCount ?? 0;
  }

  /** Bounded: a pool whose server is stalled would wait for its busy clients forever. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.pool.end().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, 2_000)))]);
    clearTimeout(timer);
  }
}

/** The schemaVersion the envelope (encodeEnvelope's fixed key order) carries; 0 when it does not say. */
function versionOf(value: string): number {
  const m = ENVELOPE_VERSION.exec(value);
  return m ? Number(m[1]) : 0;
}
