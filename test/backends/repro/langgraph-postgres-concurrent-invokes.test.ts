/**
 * Minimal reproduction, no harness: two PostgresSaver instances (two pools, as two processes would
 * have), one MessagesAnnotation graph each, and two invokes on one thread at the same moment.
 * Suspected: langgraphjs #1812 / PR #2584 (channel blobs written ON CONFLICT DO NOTHING, so a
 * sibling writer's messages are replaced) and langgraph #8796 (two writers fork a thread; one
 * checkpoint becomes unreachable).
 */
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/pg.ts';

let server: PostgresServer;
const pools: pg.Pool[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const p of pools) await p.end();
  await server?.stop();
});

async function writer(url: string) {
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', () => {});
  pools.push(pool);
  const saver = new PostgresSaver(pool);
  await saver.setup();
  // Which checkpoints this writer put: only to tell afterwards whose checkpoint the thread ends on.
  const mine = new Set<string>();
  const put = saver.put.bind(saver);
  saver.put = async (...args: Parameters<typeof put>) => {
    const config = await put(...args);
    mine.add(String(config.configurable?.checkpoint_id));
    return config;
  };
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('reply', (s) => ({ messages: [new AIMessage({ content: 'ok', id: `${s.messages.at(-1)!.id}:reply` })] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer: saver });
  return { pool, graph, mine };
}

const ids = (ms: BaseMessage[]) => ms.map((m) => m.id);

it("@langchain/langgraph 1.7.3 + @langchain/langgraph-checkpoint-postgres 1.0.5: two concurrent invokes on one thread both return their turn, the thread keeps one: forked checkpoints share one messages blob, and the losing writer's checkpoint reads the sibling writer messages", async () => {
  const url = await server.createDatabase('repro');
  const one = await writer(url);
  const two = await writer(url);
  // REPRO_ROUNDS=20 for the figures in backends/README.md; the summary line is printed only then.
  const rounds = Number(process.env.REPRO_ROUNDS ?? 8);
  let lost = 0;
  let replaced = 0;
  let forkedWhenLost = 0;
  let sharedBlobWhenLost = 0;
  for (let i = 0; i < rounds; i++) {
    const thread = `thread-${i}`;
    const cfg = { configurable: { thread_id: thread } };
    await one.graph.invoke({ messages: [new HumanMessage({ content: 'first', id: 'm0' })] }, cfg);
    const [a, b] = await Promise.all([
      one.graph.invoke({ messages: [new HumanMessage({ content: 'from one', id: 'm1' })] }, cfg),
      two.graph.invoke({ messages: [new HumanMessage({ content: 'from two', id: 'm2' })] }, cfg),
    ]);
    // Each invoke acknowledged its own turn...
    expect(ids(a.messages)).toContain('m1');
    expect(ids(b.messages)).toContain('m2');
    // ...and the thread, as the library reads it back, may hold only one of them.
    const after = ids((await one.graph.getState(cfg)).values.messages as BaseMessage[]);
    if (after.includes('m1') && after.includes('m2')) continue;
    lost++;
    // The thread ends on the checkpoint of the writer whose message is missing: its messages blob
    // was never written (ON CONFLICT DO NOTHING), so its checkpoint reads the sibling's (#1812).
    const latest = String((await one.graph.getState(cfg)).config.configurable?.checkpoint_id);
    const missing = after.includes('m1') ? two : one;
    if (missing.mine.has(latest)) replaced++;
    const rows = await one.pool.query<{ parent_checkpoint_id: string | null; v: string }>(
      `SELECT parent_checkpoint_id, checkpoint->'channel_versions'->>'messages' AS v FROM checkpoints WHERE thread_id = $1`,
      [thread],
    );
    const parents = rows.rows.map((r) => r.parent_checkpoint_id);
    if (new Set(parents).size < parents.length) forkedWhenLost++;
    // Two checkpoints name the same messages version; the blob table holds one row for it (DO NOTHING).
    const versions = rows.rows.map((r) => r.v);
    const shared = versions.find((v, k) => versions.indexOf(v) !== k);
    if (shared !== undefined) {
      const blobs = await one.pool.query(`SELECT 1 FROM checkpoint_blobs WHERE thread_id = $1 AND channel = 'messages' AND version = $2`, [thread, shared]);
      if (blobs.rowCount === 1) sharedBlobWhenLost++;
    }
  }
  if (process.env.REPRO_ROUNDS) console.info(`lost a turn in ${lost}/${rounds} rounds; fork in ${forkedWhenLost}, shared blob in ${sharedBlobWhenLost}, head was the losing writer's own checkpoint in ${replaced}`);
  // Observed here: nearly every round loses a turn, most often with the loser's own checkpoint as head.
  expect(lost).toBeGreaterThanOrEqual(1);
  expect(replaced).toBeGreaterThanOrEqual(1);
  expect(forkedWhenLost).toBe(lost);
  expect(sharedBlobWhenLost).toBe(lost);
});
