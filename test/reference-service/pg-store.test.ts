/**
 * The reference service on PostgreSQL: the compare-and-set append under concurrency across two
 * service instances (no lost turn), replays, If-Match, the schema guard, TTL as expires_at, and the
 * naive path with cas off losing turns. Real processes: a PostgreSQL server, in-process services.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, sleep } from './helpers.ts';
import { startService, type ServiceHandle } from '../../reference-service/service.ts';
import type { ServiceConfig } from '../../reference-service/config.ts';
import { legacyKeys, sessionKey } from '../../reference-service/store/keys.ts';
import { startPostgresServer, type PostgresServer } from '../../src/topology/postgres-server.ts';

let server: PostgresServer;
let db: pg.Client;
const services: ServiceHandle[] = [];
beforeAll(async () => {
  server = await startPostgresServer();
  db = new pg.Client({ connectionString: server.url });
  await db.connect();
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await db?.end();
  await server?.stop();
});

async function service(cfg: Partial<ServiceConfig> = {}): Promise<ServiceHandle> {
  const s = await startService({ postgresUrl: server.url, port: 0, modelLatencyMs: 0, storeTimeoutMs: 5_000, ...cfg });
  services.push(s);
  return s;
}

const row = async (session: string) => (await db.query(`SELECT revision, schema_version, expires_at, value FROM sp_sessions WHERE key = $1`, [sessionKey('tenant-a', session)])).rows[0];

describe('postgres store, cas on', () => {
  it('two instances, 60 concurrent appends to one session: every turn counted, revision == turnCount', async () => {
    const [a, b] = [new Client((await service({ modelLatencyMs: '1-4', windowTurns: 100 })).url), new Client((await service({ modelLatencyMs: '1-4', windowTurns: 100 })).url)];
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).append('race', `t${i}`, `message ${i}`)));
    expect(answers.map((x) => x.status)).toEqual(Array(60).fill(200));
    expect(answers.every((x) => x.body.applied === true)).toBe(true);
    expect(new Set(answers.map((x) => x.body.revision)).size).toBe(60);
    const r = await a.read('race');
    expect(r.body).toMatchObject({ turnCount: 60, revision: 60 });
    expect(new Set(r.body.turns.map((t: { turnId: string }) => t.turnId)).size).toBe(60);
    expect(Number((await row('race')).revision)).toBe(60);
    expect(Number((await db.query(`SELECT count(*) AS n FROM sp_turn_ids WHERE key = $1`, [sessionKey('tenant-a', 'race')])).rows[0].n)).toBe(60);
  });

  it('a replayed turnId answers applied:false; concurrent replays of a new one apply it once', async () => {
    const c = new Client((await service()).url);
    const first = await c.append('replay', 'x1', 'hello');
    const again = await c.append('replay', 'x1', 'hello');
    expect(first.body).toMatchObject({ applied: true, revision: 1 });
    expect(again.body).toMatchObject({ applied: false, revision: 1, reply: first.body.reply });
    const burst = await Promise.all(Array.from({ length: 10 }, () => c.append('replay', 'x2', 'same')));
    expect(burst.filter((x) => x.body.applied === true)).toHaveLength(1);
    expect((await c.read('replay')).body.turnCount).toBe(2);
  });

  it('If-Match: a stale revision answers 409, two writers on one revision: one wins', async () => {
    const c = new Client((await service()).url);
    await c.append('ifm', 'a', 'one');
    expect((await c.append('ifm', 'b', 'two', 0)).body.code).toBe('revision_conflict');
    const [x, y] = await Promise.all([c.append('ifm', 'd', 'x', 1), c.append('ifm', 'e', 'y', 1)]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
  });

  it('the schema guard: an instance does not overwrite a newer schemaVersion', async () => {
    const v3 = new Client((await service({ schemaVersion: 3 })).url);
    const v2 = new Client((await service({ schemaVersion: 2 })).url);
    await v3.append('newer', 'n1', 'written by v3');
    const refused = await v2.append('newer', 'n2', 'v2 tries');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('unsupported_schema_version');
    expect((await row('newer')).schema_version).toBe(3);
  });

  it('TTL is expires_at: an expired session reads 404, a new append starts it afresh, the sweep removes it', async () => {
    const c = new Client((await service({ ttlSeconds: 1 })).url);
    await c.append('ttl', 't1', 'hello');
    const expires = (await row('ttl')).expires_at as Date;
    expect(expires.getTime() - Date.now()).toBeGreaterThan(0);
    expect(expires.getTime() - Date.now()).toBeLessThanOrEqual(1_000);
    await sleep(1_200);
    expect((await c.read('ttl')).status).toBe(404);
    // The turn id went with the session: replaying it appends again, to a new session.
    expect((await c.append('ttl', 't1', 'hello again')).body).toMatchObject({ applied: true, revision: 1, turnCount: 1 });
    await sleep(1_200);
    await db.query(`DELETE FROM sp_sessions WHERE expires_at <= now()`);
    expect(await row('ttl')).toBeUndefined();
  });

  it('the size limit holds on postgres too: 413, and nothing stored', async () => {
    const c = new Client((await service({ maxStateBytes: 2_000 })).url);
    await c.append('big', 'b1', 'x'.repeat(500));
    const tooBig = await c.append('big', 'b2', 'y'.repeat(1_800));
    expect(tooBig.status).toBe(413);
    expect(Number((await row('big')).revision)).toBe(1);
  });
});

describe('the deadline rule on postgres', () => {
  const cas = (c: pg.Client, key: string, expected: number, turnId: string, deadlineMs: number) =>
    c.query(`SELECT status, revision FROM sp_cas_append($1, $2, $3, $4, 0, 0, 0, $5, 3)`, [key, expected, `{"schemaVersion":3,"revision":${expected + 1},"data":{}}`, turnId, deadlineMs]);

  it('past the deadline before the write: refused (expired), nothing written', async () => {
    await service(); // creates the schema
    const key = sessionKey('tenant-a', 'late-before');
    expect((await cas(db, key, 0, 'd1', Date.now() - 1)).rows[0]).toMatchObject({ status: 6 });
    expect(await row('late-before')).toBeUndefined();
  });

  it('a write held past its deadline (here by a row lock) is rolled back when it resumes, never applied late', async () => {
    await service();
    const key = sessionKey('tenant-a', 'late-after');
    expect((await cas(db, key, 0, 'a1', 0)).rows[0]).toMatchObject({ status: 1, revision: '1' });
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM sp_sessions WHERE key = $1 FOR UPDATE', [key]);
      const late = cas(db, key, 1, 'a2', Date.now() + 150).then(
        () => 'applied',
        (e: { code?: string }) => e.code,
      );
      await sleep(400);
      await holder.query('COMMIT');
      expect(await late).toBe('SPDL1');
    } finally {
      await holder.end();
    }
    expect(Number((await row('late-after')).revision)).toBe(1);
    expect((await db.query(`SELECT turn_id FROM sp_turn_ids WHERE key = $1`, [key])).rows.map((r) => r.turn_id)).toEqual(['a1']);
  });
});

describe('postgres store, cas off', () => {
  it('two instances racing a read-modify-write lose turns', async () => {
    const [a, b] = [new Client((await service({ unsafe: ['cas'], modelLatencyMs: '2-6', windowTurns: 100 })).url), new Client((await service({ unsafe: ['cas'], modelLatencyMs: '2-6', windowTurns: 100 })).url)];
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).append('naive', `t${i}`, `message ${i}`)));
    expect(answers.every((x) => x.status === 200 && x.body.applied === true)).toBe(true);
    const r = await a.read('naive');
    expect(r.body.turnCount).toBeLessThan(50);
  });
});

describe('postgres store, key layout 1 → 2', () => {
  it('a row written under layout 1 is read, moved with its turn ids, and appended to at its next revision', async () => {
    const c = new Client((await service()).url);
    // Let the service create the schema, then put a layout-1 row and its turn id beside it.
    await c.append('pg-seed', 'x', 'schema');
    const old = legacyKeys('tenant-a', 'pg-old');
    const seeded = (await db.query(`SELECT value FROM sp_sessions WHERE key = $1`, [sessionKey('tenant-a', 'pg-seed')])).rows[0].value as string;
    await db.query(`INSERT INTO sp_sessions (key, value, revision, schema_version, expires_at) VALUES ($1, $2, 1, 3, NULL)`, [old.key, seeded]);
    await db.query(`INSERT INTO sp_turn_ids (key, turn_id, revision) VALUES ($1, 'x', 1)`, [old.key]);
    expect((await c.read('pg-old')).body).toMatchObject({ revision: 1, turnCount: 1 });
    expect((await c.append('pg-old', 'x', 'schema')).body).toMatchObject({ applied: false, revision: 1 });
    expect((await c.append('pg-old', 'y', 'next')).body).toMatchObject({ applied: true, revision: 2 });
    expect((await db.query(`SELECT count(*)::int AS n FROM sp_sessions WHERE key = $1`, [old.key])).rows[0].n).toBe(0);
    expect((await row('pg-old')).revision).toBe('2');
  });
});
