/**
 * The third witness on PostgreSQL: what sp_sessions holds after the run, read straight from the
 * database (not through the service), in the reference service's layout (reference-service/store/
 * pg-schema.ts). The same shapes as store-snapshot.ts gives for Redis: rows past expires_at count as
 * gone (as expired keys do), ttlSeconds is -1 without an expiry, bytes is the envelope's length.
 * Also seeds v1 sessions, and gives the store's size and version for the report.
 */
import pg from 'pg';
import type { StoreSnapshot } from '../check/types.ts';
import { parseEnvelope } from '../../reference-service/schema/envelope.ts';
import { decodeAnyVersion } from '../../reference-service/schema/migrate.ts';
import { encodeV1Session } from '../../reference-service/schema/v1.ts';
import { parseSessionKey, sessionKey } from '../../reference-service/store/keys.ts';
import { SCHEMA_LOCK_ID, SCHEMA_SQL } from '../../reference-service/store/pg-schema.ts';
import type { SnapshotExtras } from './store-snapshot-types.ts';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000, query_timeout: 60_000 });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

async function hasTable(c: pg.Client): Promise<boolean> {
  return (await c.query(`SELECT to_regclass('sp_sessions') IS NOT NULL AS t`)).rows[0]?.t === true;
}

export async function snapshotPostgres(url: string): Promise<{ sessions: StoreSnapshot[]; extras: SnapshotExtras }> {
  const sessions: StoreSnapshot[] = [];
  const extras: SnapshotExtras = { pinned: new Map(), windowText: new Map(), corrupt: [], keyMemory: null };
  await withClient(url, async (c) => {
    if (!(await hasTable(c))) return;
    const { rows } = await c.query<{ key: string; value: string; ttl: number }>(
      `SELECT key, value, CASE WHEN expires_at IS NULL THEN -1 ELSE ceil(extract(epoch FROM expires_at - now()))::int END AS ttl
         FROM sp_sessions WHERE expires_at IS NULL OR expires_at > now()`,
    );
    for (const row of rows) {
      // Either key layout (keys.ts): a layout-1 row an older service wrote is still the session's state.
      const parsed = parseSessionKey(row.key);
      if (!parsed) continue;
      const { tenant, session } = parsed;
      try {
        const env = parseEnvelope(row.value);
        const state = decodeAnyVersion(env);
        sessions.push({
          tenant,
          session,
          schemaVersion: env.schemaVersion,
          revision: env.revision,
          turnCount: state.turnCount,
          turnIds: state.turns.map((t) => t.turnId),
          bytes: Buffer.byteLength(row.value),
          ttlSeconds: row.ttl,
        });
        extras.pinned.set(`${tenant}/${session}`, state.pinned);
        extras.windowText.set(`${tenant}/${session}`, state.turns.map((t) => t.user));
      } catch {
        extras.corrupt.push(row.key);
      }
    }
  });
  sessions.sort((a, b) => (a.tenant + a.session < b.tenant + b.session ? -1 : 1));
  return { sessions, extras };
}

/** The session tables' size on disk (heap, indexes, TOAST), the Postgres counterpart of used_memory. */
export async function postgresUsedBytes(url: string): Promise<number | null> {
  try {
    return await withClient(url, async (c) => {
      if (!(await hasTable(c))) return 0;
      const { rows } = await c.query<{ n: string }>(`SELECT pg_total_relation_size('sp_sessions') + pg_total_relation_size('sp_turn_ids') AS n`);
      return Number(rows[0]!.n);
    });
  } catch {
    return null;
  }
}

export async function postgresVersion(url: string): Promise<string | null> {
  try {
    return await withClient(url, async (c) => `PostgreSQL ${String((await c.query('SHOW server_version')).rows[0]?.server_version ?? '').split(' ')[0]}`);
  } catch {
    return null;
  }
}

/** Writes `count` sessions in schema v1 straight into sp_sessions, each with a few turns (no turn ids, as on Redis). */
export async function seedV1SessionsPostgres(url: string, opts: { tenant: string; prefix: string; count: number; turns?: number }): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    await c.query(SCHEMA_SQL);
    for (let s = 0; s < opts.count; s++) {
      const id = `${opts.prefix}${s}`;
      const turns = Array.from({ length: opts.turns ?? 3 }, (_, t) => ({ turnId: `${id}-seed-${t}`, user: `seeded question ${t}`, assistant: `seeded answer ${t}` }));
      const value = encodeV1Session({ turns });
      const env = parseEnvelope(value);
      await c.query(
        `INSERT INTO sp_sessions (key, value, revision, schema_version) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision, schema_version = EXCLUDED.schema_version, expires_at = NULL`,
        [sessionKey(opts.tenant, id), value, env.revision, env.schemaVersion],
      );
    }
    await c.query('COMMIT');
  });
}
