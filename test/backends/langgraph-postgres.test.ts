import { HumanMessage } from '@langchain/core/messages';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLanggraphPostgresAdapter } from '../../backends/langgraph-postgres/adapter.ts';
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

describe('langgraph-postgres (@langchain/langgraph + PostgresSaver)', () => {
  it('speaks the contract; a replayed turnId is replaced in place by the messages reducer (no duplicate)', async () => {
    const url = await server.createDatabase('smoke');
    await contractSmoke({ make: () => createLanggraphPostgresAdapter({ storeUrl: url }), replayDedupes: true, session: 'smoke' });
  });

  it('uses the library as documented: the checkpoint PostgresSaver itself reads back holds the turn, keyed by thread_id', async () => {
    const url = await server.createDatabase('documented');
    const http = await serve(await createLanggraphPostgresAdapter({ storeUrl: url }));
    const pool = new pg.Pool({ connectionString: url });
    const saver = new PostgresSaver(pool);
    try {
      const a = new Client(http.url, TOKEN_A);
      await a.append('doc', 'u1', 'first');
      await a.append('doc', 'u2', 'second');
      const tuple = await saver.getTuple({ configurable: { thread_id: 'tenant-a:doc' } });
      const messages = (tuple?.checkpoint.channel_values as { messages: HumanMessage[] }).messages;
      expect(messages.map((m) => [m.getType(), m.id, m.content])).toEqual([
        ['human', 'u1:user', 'first'],
        ['ai', 'u1:assistant', 'Noted (5 chars).'],
        ['human', 'u2:user', 'second'],
        ['ai', 'u2:assistant', 'Noted (6 chars).'],
      ]);
      // One invoke per turn: input checkpoint, then one per step of the single-node graph.
      const history = [];
      for await (const t of saver.list({ configurable: { thread_id: 'tenant-a:doc' } })) history.push(t.metadata?.source);
      expect(history.filter((s) => s === 'input')).toHaveLength(2);
      const threads = await pool.query('SELECT DISTINCT thread_id FROM checkpoints ORDER BY 1');
      expect(threads.rows.map((r) => r.thread_id)).toEqual(['tenant-a:doc']);
    } finally {
      await pool.end();
      await http.close();
    }
  });

  it('through two adapter instances, two concurrent acknowledged appends on one session can read back as one: the repro\'s loss, as the harness will meet it', async () => {
    const url = await server.createDatabase('through');
    const one = await serve(await createLanggraphPostgresAdapter({ storeUrl: url }), 'one');
    const two = await serve(await createLanggraphPostgresAdapter({ storeUrl: url }), 'two');
    try {
      const a = new Client(one.url, TOKEN_A);
      const b = new Client(two.url, TOKEN_A);
      let lost = 0;
      for (let i = 0; i < 5; i++) {
        const s = `race-${i}`;
        await a.append(s, 'first', 'x');
        const [x, y] = await Promise.all([a.append(s, 'from-one', 'a'), b.append(s, 'from-two', 'b')]);
        expect([x.status, y.status]).toEqual([200, 200]);
        const ids = (await a.read(s)).body.turns.map((t: { turnId: string }) => t.turnId);
        if (!(ids.includes('from-one') && ids.includes('from-two'))) lost++;
      }
      expect(lost).toBeGreaterThanOrEqual(1);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
