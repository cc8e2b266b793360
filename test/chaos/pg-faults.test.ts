/**
 * Postgres faults on a real PostgreSQL server, each applied (verified as Postgres itself shows it)
 * and undone; and a store fault Postgres cannot have, refused before anything starts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgConnectionsExhausted, pgReadOnly, pgRestart, pgStall, pgTerminateBackends } from '../../chaos/pg-faults.ts';
import { runPlan } from '../../chaos/runner.ts';
import { validatePlan } from '../../chaos/plan.ts';
import { startPostgresServer, type PostgresServer } from '../../src/topology/postgres-server.ts';

let server: PostgresServer;
beforeAll(async () => {
  // A small max_connections keeps the exhaustion fault quick.
  server = await startPostgresServer({ config: { max_connections: '20' } });
  await withClient((c) => c.query('CREATE TABLE kept (k text PRIMARY KEY)'));
});
afterAll(async () => {
  await server?.stop();
});

function client(): pg.Client {
  const c = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 3_000 });
  c.on('error', () => {});
  return c;
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = client();
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Resolves 'answered' or 'held' depending on whether the query answers within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<'answered' | 'held' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => 'answered' as const, () => 'failed' as const), new Promise<'held'>((res) => (timer = setTimeout(() => res('held'), ms)))]);
  clearTimeout(timer);
  return r;
}

describe('postgres faults', () => {
  it('terminate_backends: an open session is ended; new sessions work', async () => {
    const open = client();
    await open.connect();
    await open.query('SELECT 1');
    const fault = await pgTerminateBackends(server.url);
    expect(fault.verified).toBe(true);
    expect(fault.detail).toMatch(/terminated [1-9]\d* client session/);
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await fault.undo();
    expect(await withClient(async (c) => (await c.query('SELECT 1 AS one')).rows[0].one)).toBe(1);
  });

  it('pause_writes: writes answer 25006 read-only, reads work, open sessions are ended; undo lets writes through', async () => {
    const open = client();
    await open.connect();
    const fault = await pgReadOnly(server.url);
    expect(fault.verified).toBe(true);
    await expect(open.query('SELECT 1')).rejects.toThrow(); // ended
    await withClient(async (c) => {
      await expect(c.query(`INSERT INTO kept VALUES ('during')`)).rejects.toMatchObject({ code: '25006' });
      expect((await c.query('SELECT count(*) AS n FROM kept')).rows[0].n).toBe('0');
    });
    await fault.undo();
    await withClient((c) => c.query(`INSERT INTO kept VALUES ('after')`));
    expect(await withClient(async (c) => (await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only)).toBe('off');
  });

  it('stall: an open session and a new one get no answer until the undo, then both do', async () => {
    const open = client();
    await open.connect();
    const fault = await pgStall(server);
    expect(fault.verified).toBe(true);
    const pending = open.query('SELECT 1');
    expect(await within(pending, 300)).toBe('held');
    await fault.undo();
    expect(await within(pending, 5_000)).toBe('answered');
    await open.end();
  });

  it('connections_exhausted: a new connection is refused 53300 while an open one works; undo frees the slots', async () => {
    const open = client();
    await open.connect();
    const fault = await pgConnectionsExhausted(server.url);
    try {
      expect(fault.verified).toBe(true);
      await expect(withClient((c) => c.query('SELECT 1'))).rejects.toMatchObject({ code: '53300' });
      expect((await open.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await fault.undo();
      await open.end();
    }
    expect(await withClient(async (c) => (await c.query('SELECT 1 AS one')).rows[0].one)).toBe(1);
  });

  it('store_restart: fast and immediate (crash-like) restarts both come back with a new postmaster and the committed rows', async () => {
    await withClient((c) => c.query(`INSERT INTO kept VALUES ('before-restart') ON CONFLICT DO NOTHING`));
    for (const hard of [false, true]) {
      const pid = server.pid;
      const fault = await pgRestart(server, { hard });
      expect(fault.verified).toBe(true);
      expect(fault.detail).toMatch(hard ? /immediate/ : /fast/);
      expect(server.pid).not.toBe(pid);
      expect(await withClient(async (c) => (await c.query(`SELECT count(*) AS n FROM kept WHERE k = 'before-restart'`)).rows[0].n)).toBe('1');
    }
  });

  it('through the plan runner: a Postgres fault is applied at its time and undone at its end', async () => {
    const run = runPlan({ faults: [{ id: 'ro', at: 0, duration: 400, target: 'store', fault: { type: 'pause_writes' } }] }, { postgres: { url: server.url, server } });
    const [entry] = await run.done;
    expect(entry).toMatchObject({ id: 'ro', verified: true });
    expect(entry!.undoError).toBeUndefined();
    await withClient((c) => c.query(`INSERT INTO kept VALUES ('after-plan') ON CONFLICT DO NOTHING`));
  });
});

describe('a store fault a store cannot have', () => {
  it('is refused before the run starts, naming the store and the faults it has', () => {
    const plan = { faults: [{ id: 'full', at: 0, duration: '1s', target: 'redis-server', fault: { type: 'oom' } }] };
    expect(() => runPlan(plan, { postgres: { url: 'postgres://postgres@127.0.0.1:1/postgres' } })).toThrow(
      'fault plan: faults[0] (id "full"): the store is postgres, which cannot have a oom fault; its store faults are: pause_writes, stall, terminate_backends, connections_exhausted, store_restart',
    );
    expect(() => validatePlan({ faults: [{ at: 0, duration: '1s', target: 'store', fault: { type: 'connections_exhausted' } }] }, { store: true, storeKind: 'valkey' })).toThrow(
      /the store is valkey, which cannot have a connections_exhausted fault; its store faults are: oom, evict, pause_writes/,
    );
    // The shared names pass on every store.
    for (const storeKind of ['redis', 'valkey', 'postgres'] as const) {
      expect(() => validatePlan({ faults: [{ at: 0, duration: '1s', target: 'redis-server', fault: { type: 'pause_writes' } }, { at: '2s', duration: '1s', target: 'store', fault: { type: 'stall' } }] }, { store: true, storeKind })).not.toThrow();
    }
  });
});
