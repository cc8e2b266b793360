import { PostgresStore } from '@mastra/pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMastraPostgresAdapter } from '../../backends/mastra-postgres/adapter.ts';
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
});
