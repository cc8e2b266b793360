/**
 * Store faults made for real on a running PostgreSQL — the failures only the database itself can
 * produce: every client session terminated, writes refused while reads work, a stalled server,
 * every connection slot taken, and a restart (fast, or immediate: crash-like, WAL replay on start).
 * Each returns an AppliedFault whose `verified` says whether Postgres itself showed the effect,
 * and whose `undo` restores what was changed.
 *
 *   terminate_backends     pg_terminate_backend() of every other client backend
 *   pause_writes           ALTER SYSTEM default_transaction_read_only = on, reload, end open sessions
 *   stall                  SIGSTOP of the postmaster and every process it started; SIGCONT to undo
 *   connections_exhausted  connections opened until the server answers 53300 (too many clients), held
 *   store_restart          fast shutdown (SIGINT), or immediate (SIGQUIT) when hard; then start again
 */
import pg from 'pg';
import type { AppliedFault } from './process.ts';
import { processState } from './process.ts';

/** The handle the faults that act on the server's processes need; topology's PostgresServer satisfies it. */
export interface FaultablePostgres {
  /** Direct (unproxied) superuser URL. */
  readonly url: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /** SIGSTOP the postmaster and every process it started; the pids stopped. */
  pause(): Promise<number[]>;
  /** SIGCONT every process pause() stopped. */
  resume(): Promise<void>;
  /** Fast shutdown (immediate when `hard`) and start again on the same port and data dir, ready for queries. */
  restart(opts?: { hard?: boolean }): Promise<void>;
}

/** A table nobody else uses: writes to it show whether the server takes writes. */
const PROBE_TABLE = 'stateproof_chaos_probe';
const READ_ONLY_SQLSTATE = '25006';
const TOO_MANY_CONNECTIONS_SQLSTATE = '53300';

function client(url: string, connectTimeoutMs = 3_000): pg.Client {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: 5_000 });
  c.on('error', () => {});
  return c;
}

export async function withPostgres<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = client(url);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Ends every client session but the caller's; the pids it ended. */
async function terminateOthers(c: pg.Client): Promise<number[]> {
  const { rows } = await c.query<{ pid: number; done: boolean }>(
    `SELECT pid, pg_terminate_backend(pid, 2000) AS done FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
  );
  return rows.filter((r) => r.done).map((r) => r.pid);
}

async function stillThere(c: pg.Client, pids: number[]): Promise<number> {
  if (pids.length === 0) return 0;
  const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])`, [pids]);
  return Number(rows[0]!.n);
}

/** pg_terminate_backend of every client session: connection pools see their connections die at once. */
export async function pgTerminateBackends(url: string): Promise<AppliedFault> {
  return withPostgres(url, async (c) => {
    const ended = await terminateOthers(c);
    const left = await stillThere(c, ended);
    return { verified: left === 0, detail: `terminated ${ended.length} client session(s)${left ? `, ${left} still listed` : ''}`, undo: async () => {} };
  });
}

async function showOnNewSession(url: string, name: string): Promise<string> {
  return withPostgres(url, async (c) => String((await c.query(`SHOW ${name}`)).rows[0]?.[name] ?? ''));
}

/** Polls until a new session sees `value` for `name` (the postmaster reloads its config asynchronously). */
async function untilNewSessionsSee(url: string, name: string, value: string, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await showOnNewSession(url, name)) === value) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function setReadOnly(url: string, on: boolean): Promise<boolean> {
  await withPostgres(url, async (c) => {
    // A session of a read-only server may still change the server's own settings.
    await c.query(on ? `ALTER SYSTEM SET default_transaction_read_only = on` : `ALTER SYSTEM RESET default_transaction_read_only`);
    await c.query(`SELECT pg_reload_conf()`);
  });
  return untilNewSessionsSee(url, 'default_transaction_read_only', on ? 'on' : 'off');
}

/**
 * Writes refused while reads work: default_transaction_read_only on for every new transaction, and
 * open sessions ended so none keeps writing on what it had. Writes answer SQLSTATE 25006.
 */
export async function pgReadOnly(url: string): Promise<AppliedFault> {
  await withPostgres(url, (c) => c.query(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (x int)`));
  const seen = await setReadOnly(url, true);
  const ended = await withPostgres(url, terminateOthers);
  const probe = await withPostgres(url, async (c) => {
    let write: string;
    try {
      await c.query(`INSERT INTO ${PROBE_TABLE} VALUES (1)`);
      write = 'accepted';
    } catch (e) {
      write = (e as { code?: string }).code === READ_ONLY_SQLSTATE ? 'refused (25006 read-only)' : `failed: ${(e as Error).message}`;
    }
    const read = (await c.query('SELECT 1 AS one')).rows[0]?.one === 1;
    return { write, read };
  });
  return {
    verified: seen && probe.write.startsWith('refused') && probe.read,
    detail: `write ${probe.write}, read ${probe.read ? 'answered' : 'failed'}; ${ended.length} open session(s) ended`,
    undo: async () => {
      if (!(await setReadOnly(url, false))) throw new Error('new sessions still see default_transaction_read_only = on');
      await withPostgres(url, (c) => c.query(`DROP TABLE IF EXISTS ${PROBE_TABLE}`));
    },
  };
}

/** True when a new session does not get an answer to SELECT 1 within `ms`. */
async function unanswered(url: string, ms: number): Promise<boolean> {
  const c = client(url, ms);
  try {
    await Promise.race([c.connect().then(() => c.query('SELECT 1')), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer')), ms))]);
    return false;
  } catch {
    return true;
  } finally {
    void c.end().catch(() => {});
  }
}

/** A stalled server: the postmaster and every backend SIGSTOPped; new and open sessions hang until SIGCONT. */
export async function pgStall(server: FaultablePostgres): Promise<AppliedFault> {
  const pids = await server.pause();
  const state = await processState(server.pid);
  const hangs = await unanswered(server.url, 200);
  return {
    verified: (state === undefined || state === 'T' || state === 't') && hangs,
    detail: `${pids.length} process(es) stopped (postmaster ${state ?? 'state unknown'}); SELECT 1 ${hangs ? 'got no answer' : 'answered'}`,
    undo: () => server.resume(),
  };
}

/**
 * Every connection slot taken: connections are opened (as superuser, so the reserved slots go too)
 * until the server refuses one with 53300 "too many clients already", and held. Sessions already
 * open keep working; a pool that needs a new connection cannot get one.
 */
export async function pgConnectionsExhausted(url: string): Promise<AppliedFault> {
  const max = Number(await showOnNewSession(url, 'max_connections'));
  const held: pg.Client[] = [];
  let refused = '';
  const release = async () => void (await Promise.all(held.splice(0).map((c) => c.end().catch(() => {}))));
  try {
    // Bounded: the server has at most `max` slots; a few more attempts cover sessions ending meanwhile.
    while (!refused && held.length < max + 5) {
      const batch = Array.from({ length: Math.min(8, max + 5 - held.length) }, () => client(url));
      const results = await Promise.allSettled(batch.map((c) => c.connect()));
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') held.push(batch[i]!);
        else {
          void batch[i]!.end().catch(() => {});
          const code = (r.reason as { code?: string }).code;
          refused ||= code === TOO_MANY_CONNECTIONS_SQLSTATE ? 'refused (53300 too many clients)' : `failed: ${(r.reason as Error).message}`;
        }
      });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return {
    verified: refused.startsWith('refused'),
    detail: `${held.length} connection(s) held of max_connections ${max}; one more ${refused || 'was accepted'}`,
    undo: release,
  };
}

async function sessionsStored(url: string): Promise<number | null> {
  return withPostgres(url, async (c) => {
    const exists = (await c.query(`SELECT to_regclass('sp_sessions') IS NOT NULL AS t`)).rows[0]?.t === true;
    return exists ? Number((await c.query(`SELECT count(*) AS n FROM sp_sessions`)).rows[0]!.n) : null;
  });
}

/**
 * Restart: a fast shutdown (open transactions rolled back, a checkpoint, then exit) or, when `hard`,
 * an immediate one (every process quits at once, like a crash; the next start replays the WAL).
 * Verified by a new postmaster answering queries.
 */
export async function pgRestart(server: FaultablePostgres, opts: { hard?: boolean } = {}): Promise<AppliedFault> {
  const before = { pid: server.pid, sessions: await sessionsStored(server.url) };
  await server.restart({ hard: opts.hard ?? false });
  const after = { pid: server.pid, sessions: await sessionsStored(server.url), ok: await withPostgres(server.url, async (c) => (await c.query('SELECT 1 AS one')).rows[0]?.one === 1) };
  return {
    verified: after.ok && after.pid !== before.pid,
    detail: `${opts.hard ? 'immediate (crash-like)' : 'fast'} shutdown, restart: sessions ${before.sessions ?? 'n/a'} -> ${after.sessions ?? 'n/a'}`,
    undo: async () => {},
  };
}
