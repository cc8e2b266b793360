/**
 * Minimal reproductions, no harness: Mastra's Agent with Memory on PostgresStore while the link to
 * Postgres is cut — a real Postgres reached through a TCP forwarder that the test cuts (connections
 * destroyed, new ones refused) and restores. What the harness's cross-instance scenario measured
 * on mastra-postgres during its 5 s split (lost acknowledged turns, bare 500s) comes from these.
 */
import { Agent } from '@mastra/core/agent';
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { MockLanguageModelV1 } from 'ai/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memoryOptions } from '../../../backends/mastra-postgres/adapter.ts';
import { startPostgres, type PostgresServer } from '../helpers/pg.ts';
import { startTcpCut, type TcpCut } from '../helpers/tcp-cut.ts';

let server: PostgresServer;
const stores: PostgresStore[] = [];
const links: TcpCut[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const l of links) await l.close();
  await stores[0]?.close(); // pgp.end(): every pg-promise pool in the process
  await server?.stop();
});

/** A model that runs `during` before it answers: the test cuts the link while the run is in the model. */
function modelThat(during: () => Promise<void>) {
  return new MockLanguageModelV1({
    doGenerate: async () => {
      await during();
      return { rawCall: { rawPrompt: null, rawSettings: {} }, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 }, text: 'ok' };
    },
  });
}

/** A store on `dbName` reached directly, and an Agent whose store is reached through a link the test cuts. */
async function setUp(dbName: string, during: () => Promise<void>) {
  const url = await server.createDatabase(dbName);
  const direct = new PostgresStore({ connectionString: url });
  await direct.init();
  stores.push(direct);
  const link = await startTcpCut(server.port);
  links.push(link);
  const storage = new PostgresStore({ connectionString: url.replace(`:${server.port}/`, `:${link.port}/`) });
  await storage.init();
  stores.push(storage);
  const memory = new Memory({ storage, options: memoryOptions(20) });
  const agent = new Agent({ name: 'repro', instructions: 'Acknowledge.', model: modelThat(during), memory });
  const rows = () => direct.db.manyOrNone<{ id: string; role: string }>(`SELECT id, role FROM mastra_messages WHERE thread_id = 'thread-1' ORDER BY "createdAt"`);
  return { link, storage, memory, agent, rows };
}

const MEMORY = { memory: { thread: 'thread-1', resource: 'user-1' } };

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: a run whose store link is cut while the model answers resolves normally, and its turn is not stored (the save error is logged, not thrown)', async () => {
  let cutDuringModel = false;
  const s = await setUp('cut-during-run', async () => {
    if (cutDuringModel) await s.link.cut();
  });
  await s.agent.generateLegacy([{ id: 'u0', role: 'user', content: 'first' }], MEMORY);
  cutDuringModel = true;
  // The run has read the thread and its history; the link goes while the model answers.
  const run = await s.agent.generateLegacy([{ id: 'u1', role: 'user', content: 'second' }], MEMORY);
  cutDuringModel = false;
  expect(run.text).toBe('ok'); // answered as if saved: nothing tells the caller
  // While still cut, Mastra's paginated read also answers instead of failing: an empty thread.
  const page = await s.storage.getMessagesPaginated({ threadId: 'thread-1', format: 'v2', selectBy: { pagination: { page: 0, perPage: 1 } } });
  expect(page.total).toBe(0);
  await s.link.restore();
  // After the link is back, the thread holds the first exchange only: u1 and its reply were never saved.
  const rows = await s.rows();
  expect(rows.map((r) => r.role)).toEqual(['user', 'assistant']);
  expect(rows.map((r) => r.id)).not.toContain('u1');
});

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: with the store link cut, a run rejects at once with the storage error MASTRA_STORAGE_PG_STORE_GET_THREAD_BY_ID_FAILED (carrying the pg driver message), no retry and no wait', async () => {
  const s = await setUp('cut-before-run', async () => {});
  await s.agent.generateLegacy([{ id: 'u0', role: 'user', content: 'first' }], MEMORY);
  await s.link.cut();
  const started = Date.now();
  const failure = await s.agent.generateLegacy([{ id: 'u1', role: 'user', content: 'second' }], MEMORY).then(
    () => undefined,
    (e: unknown) => e as { id?: string; domain?: string; category?: string; message: string },
  );
  const tookMs = Date.now() - started;
  await s.link.restore();
  expect(failure).toBeDefined();
  // The pg driver's own message, under Mastra's generic storage error: the same shape as any query failure.
  expect(failure).toMatchObject({ id: 'MASTRA_STORAGE_PG_STORE_GET_THREAD_BY_ID_FAILED', domain: 'STORAGE', category: 'THIRD_PARTY' });
  expect(failure!.message).toMatch(/ECONNREFUSED|Connection terminated/);
  expect(tookMs).toBeLessThan(5_000); // fails fast: no retry, no wait for the store to come back
  expect((await s.rows()).map((r) => r.id)).not.toContain('u1');
});
