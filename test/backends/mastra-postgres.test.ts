import { Agent } from '@mastra/core/agent';
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { MockLanguageModelV1 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMastraPostgresAdapter, mastraAdapter, memoryOptions } from '../../backends/mastra-postgres/adapter.ts';
import { Client, TOKEN_A } from '../reference-service/helpers.ts';
import { contractSmoke, serve } from './helpers/contract-smoke.ts';
import { startPostgres, type PostgresServer } from './helpers/pg.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('mastra-postgres (@mastra/memory on @mastra/pg, 0.x)', () => {
  it('speaks the contract; a replayed turnId is upserted by message id (no duplicate)', async () => {
    const url = await server.createDatabase('smoke');
    await contractSmoke({ make: () => createMastraPostgresAdapter({ storeUrl: url, windowTurns: 20 }), replayDedupes: true, session: 'smoke' });
  });

  it('uses the library as documented: one Agent run per turn; the thread belongs to the tenant as resourceId, and lastMessages bounds the read, not the store', async () => {
    const url = await server.createDatabase('documented');
    const http = await serve(await createMastraPostgresAdapter({ storeUrl: url, windowTurns: 2 }));
    const store = new PostgresStore({ connectionString: url });
    await store.init();
    try {
      const a = new Client(http.url, TOKEN_A);
      for (const n of [1, 2, 3]) await a.append('doc', `u${n}`, `message ${n}`);
      const thread = await store.getThreadById({ threadId: 'tenant-a:doc' });
      expect(thread?.resourceId).toBe('tenant-a');
      const all = await store.getMessagesPaginated({ threadId: 'tenant-a:doc', format: 'v2', selectBy: { pagination: { page: 0, perPage: 100 } } });
      expect(all.total).toBe(6);
      // The user message carries the turnId (namespaced: Mastra's ids are global); the Agent names its reply.
      const users = all.messages.filter((m) => m.role === 'user').map((m) => m.id);
      expect(users.sort()).toEqual(['tenant-a:doc:u1:user', 'tenant-a:doc:u2:user', 'tenant-a:doc:u3:user']);
      const replies = all.messages.filter((m) => m.role === 'assistant');
      expect(replies).toHaveLength(3);
      expect(replies.every((m) => m.resourceId === 'tenant-a' && m.threadId === 'tenant-a:doc')).toBe(true);
      const read = await a.read('doc');
      // lastMessages = 2 x 2 turns: the read is the window, turnCount is every turn stored.
      expect(read.body.turns.map((t: { turnId: string }) => t.turnId)).toEqual(['u2', 'u3']);
      expect(read.body.turnCount).toBe(3);
    } finally {
      await http.close();
      await store.close();
    }
  });

  it("answers applied and turnCount from the turn's own user message, not from a message count that other writers and second replies move", async () => {
    const url = await server.createDatabase('applied');
    const storage = new PostgresStore({ connectionString: url });
    await storage.init();
    const memory = new Memory({ storage, options: memoryOptions(20) });
    let during: () => Promise<unknown> = async () => {};
    const model = new MockLanguageModelV1({
      doGenerate: async () => {
        await during();
        return { rawCall: { rawPrompt: null, rawSettings: {} }, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 }, text: 'ok' };
      },
    });
    const agent = new Agent({ name: 'applied', instructions: 'Acknowledge.', model, memory });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const otherModel = new MockLanguageModelV1({
      doGenerate: async () => {
        await sleep(30);
        return { rawCall: { rawPrompt: null, rawSettings: {} }, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 }, text: 'ok' };
      },
    });
    const other = new Agent({ name: 'other', instructions: 'Acknowledge.', model: otherModel, memory });
    const adapter = mastraAdapter(agent, memory, storage, { ready: async () => true, close: async () => {}, versions: {} });
    const ref = { tenant: 'tenant-a', sessionId: 's' };
    const thread = { thread: 'tenant-a:s', resource: 'tenant-a' };
    try {
      expect(await adapter.append(ref, { turnId: 't1', content: 'hello', reply: '' })).toEqual({ applied: true, turnCount: 1 });
      // A replay while another writer's turn lands: the thread grows by two messages, none of them this turn's.
      during = () => other.generateLegacy([{ id: 'tenant-a:s:t2:user', role: 'user', content: 'other' }], { memory: thread });
      expect(await adapter.append(ref, { turnId: 't1', content: 'hello', reply: '' })).toEqual({ applied: false, turnCount: 2 });
      // Two attempts of t3 at once: one user message, two replies — still one turn.
      during = () => sleep(30); // both runs recall the thread before either saves
      await Promise.all([
        adapter.append(ref, { turnId: 't3', content: 'again', reply: '' }),
        other.generateLegacy([{ id: 'tenant-a:s:t3:user', role: 'user', content: 'again' }], { memory: thread }),
      ]);
      const all = await storage.getMessagesPaginated({ threadId: 'tenant-a:s', format: 'v2', selectBy: { pagination: { page: 0, perPage: 100 } } });
      expect(all.messages).toHaveLength(7);
      expect(all.messages.filter((m) => m.role === 'user')).toHaveLength(3);
      expect((await adapter.read(ref))!.turnCount).toBe(3);
    } finally {
      await storage.close();
    }
  });
});
