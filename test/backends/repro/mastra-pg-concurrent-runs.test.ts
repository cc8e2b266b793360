/**
 * Minimal reproductions, no harness: Mastra's Agent with Memory on PostgresStore, the model a local
 * mock. Suspected: mastra #21906 (concurrent runs on one thread interleave messages on Postgres) and
 * mastra #9370 / #10071 (duplicate assistant messages).
 */
import { Agent } from '@mastra/core/agent';
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { MockLanguageModelV1 } from 'ai/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deterministicModel, memoryOptions } from '../../../backends/mastra-postgres/adapter.ts';
import { startPostgres, type PostgresServer } from '../helpers/pg.ts';

let server: PostgresServer;
const stores: PostgresStore[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await stores[0]?.close(); // pgp.end(): every pg-promise pool in the process
  await server?.stop();
});

async function agentOn(url: string, model = deterministicModel()) {
  const storage = new PostgresStore({ connectionString: url });
  await storage.init();
  stores.push(storage);
  const memory = new Memory({ storage, options: memoryOptions(20) });
  return { storage, memory, agent: new Agent({ name: 'repro', instructions: 'Acknowledge.', model, memory }) };
}

/** A model that takes `ms` to answer, as any real one does: the runs overlap for that long. */
function slowModel(ms: number) {
  return new MockLanguageModelV1({
    doGenerate: async () => {
      await new Promise((r) => setTimeout(r, ms));
      return { rawCall: { rawPrompt: null, rawSettings: {} }, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 }, text: 'ok' };
    },
  });
}

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: two overlapping Agent runs on one thread interleave their messages (user, user, assistant, assistant)', async () => {
  const url = await server.createDatabase('interleave');
  const one = await agentOn(url, slowModel(30));
  const two = await agentOn(url, slowModel(30));
  const memory = { thread: 'thread-1', resource: 'user-1' };
  await one.agent.generateLegacy([{ id: 'u0', role: 'user', content: 'first' }], { memory });
  await Promise.all([
    one.agent.generateLegacy([{ id: 'u1', role: 'user', content: 'from one' }], { memory }),
    two.agent.generateLegacy([{ id: 'u2', role: 'user', content: 'from two' }], { memory }),
  ]);
  const { messagesV2 } = await one.memory.rememberMessages({ threadId: 'thread-1', resourceId: 'user-1' });
  const roles = messagesV2.map((m) => m.role);
  // Nothing is lost (six messages), but the thread no longer reads as exchanges: both user
  // messages come before both replies, so the history a model is given pairs neither.
  expect(messagesV2).toHaveLength(6);
  expect(roles).toEqual(['user', 'assistant', 'user', 'user', 'assistant', 'assistant']);
});

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: a run replaying a stored user message id still inside the lastMessages window adds no duplicate — its reply is not saved at all', async () => {
  const url = await server.createDatabase('replay');
  const { agent, storage } = await agentOn(url);
  const memory = { thread: 'thread-1', resource: 'user-1' };
  const first = await agent.generateLegacy([{ id: 'same-id', role: 'user', content: 'hello' }], { memory });
  const again = await agent.generateLegacy([{ id: 'same-id', role: 'user', content: 'hello' }], { memory });
  // Both runs answered...
  expect([first.text, again.text]).toEqual(['Noted (5 chars).', 'Noted (5 chars).']);
  const rows = await storage.db.manyOrNone<{ id: string; role: string }>(`SELECT id, role FROM mastra_messages WHERE thread_id = 'thread-1' ORDER BY "createdAt"`);
  // ...the thread holds one exchange: no duplicate assistant message (#9370 / #10071 did not reproduce this way).
  expect(rows.map((r) => r.role)).toEqual(['user', 'assistant']);
  expect(rows[0]!.id).toBe('same-id');
});

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: two runs replaying one user message id at once, on two stores, store the user message once and the reply twice', async () => {
  const url = await server.createDatabase('replay_concurrent');
  const one = await agentOn(url, slowModel(30));
  const two = await agentOn(url, slowModel(30));
  const memory = { thread: 'thread-1', resource: 'user-1' };
  await one.agent.generateLegacy([{ id: 'u0', role: 'user', content: 'first' }], { memory });
  // A client retry that reaches a second instance while the first attempt is still running.
  const answers = await Promise.all([
    one.agent.generateLegacy([{ id: 'same-id', role: 'user', content: 'hello' }], { memory }),
    two.agent.generateLegacy([{ id: 'same-id', role: 'user', content: 'hello' }], { memory }),
  ]);
  expect(answers.map((a) => a.text)).toEqual(['ok', 'ok']);
  const rows = await one.storage.db.manyOrNone<{ id: string; role: string }>(`SELECT id, role FROM mastra_messages WHERE thread_id = 'thread-1' ORDER BY "createdAt"`);
  // The user message upserts by its id (one row); each run saves its own reply under a new id.
  expect(rows.filter((r) => r.id === 'same-id')).toHaveLength(1);
  expect(rows.map((r) => r.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'assistant']);
});

it('@mastra/core 0.24.9 + @mastra/memory 0.15.13 + @mastra/pg 0.17.10: a replay of a user message id older than the lastMessages window saves a second reply, after the newest turn', async () => {
  const url = await server.createDatabase('replay_past_window');
  const storage = new PostgresStore({ connectionString: url });
  await storage.init();
  stores.push(storage);
  // lastMessages = 2: the run recalls the last exchange only.
  const memory = new Memory({ storage, options: memoryOptions(1) });
  const agent = new Agent({ name: 'repro', instructions: 'Acknowledge.', model: deterministicModel(), memory });
  const thread = { memory: { thread: 'thread-1', resource: 'user-1' } };
  for (const id of ['w1', 'w2', 'w3']) await agent.generateLegacy([{ id, role: 'user', content: id }], thread);
  await agent.generateLegacy([{ id: 'w1', role: 'user', content: 'w1' }], thread);
  const rows = await storage.db.manyOrNone<{ id: string; role: string }>(`SELECT id, role FROM mastra_messages WHERE thread_id = 'thread-1' ORDER BY "createdAt"`);
  // The user message upserts in place (its createdAt kept); the run saves its reply as new, at the end.
  expect(rows.map((r) => (r.role === 'user' ? r.id : 'assistant'))).toEqual(['w1', 'assistant', 'w2', 'assistant', 'w3', 'assistant', 'assistant']);
});
