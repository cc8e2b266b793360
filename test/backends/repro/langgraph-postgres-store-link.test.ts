/**
 * Minimal reproduction, no harness: LangGraph.js with PostgresSaver through a TCP link a test cuts
 * and restores (test/backends/helpers/tcp-cut.ts), standing in for store-outage's cut link. While
 * it is cut, `invoke` rejects with the pg driver's error: the library has no degraded answer and
 * no retry, so the adapter (which answers a library exception as a 500, backends/README.md) gives
 * a bare 5xx with no degraded flag — the scorecard's no-store-5xx and degradation-flagged cells.
 */
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installedVersions } from '../../../backends/shared/versions.ts';
import { startPostgres, type PostgresServer } from '../helpers/pg.ts';
import { startTcpCut, type TcpCut } from '../helpers/tcp-cut.ts';

let server: PostgresServer;
let link: TcpCut | undefined;
let pool: pg.Pool | undefined;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await pool?.end().catch(() => {});
  await link?.close();
  await server?.stop();
});

it("@langchain/langgraph 1.7.3 + @langchain/langgraph-checkpoint-postgres 1.0.5 (pg 8.23.1): with the store link cut, invoke rejects with the driver's connection error, and works again once the link is back", { timeout: 30_000 }, async () => {
  // The title names the versions this was seen with: a finding is only as good as them.
  expect(installedVersions(['@langchain/langgraph', '@langchain/langgraph-checkpoint-postgres', 'pg'])).toEqual({
    '@langchain/langgraph': '1.7.3',
    '@langchain/langgraph-checkpoint-postgres': '1.0.5',
    pg: '8.23.1',
  });
  const url = new URL(await server.createDatabase('repro_link'));
  link = await startTcpCut(Number(url.port));
  url.port = String(link.port);
  pool = new pg.Pool({ connectionString: url.toString() });
  pool.on('error', () => {}); // the pool's documented requirement; idle clients die with the link
  const saver = new PostgresSaver(pool);
  await saver.setup();
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('reply', (s) => ({ messages: [new AIMessage({ content: 'ok', id: `${s.messages.at(-1)!.id}:reply` })] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer: saver });
  const config = { configurable: { thread_id: 'link' } };
  await graph.invoke({ messages: [new HumanMessage({ content: 'before', id: 't1' })] }, config);

  await link.cut();
  const started = Date.now();
  const during = await graph.invoke({ messages: [new HumanMessage({ content: 'during', id: 't2' })] }, config).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(during, 'invoke resolved with the store unreachable').toBeInstanceOf(Error);
  if (process.env.REPRO_ROUNDS) console.info(`during the cut: ${during!.message}`);
  expect(during!.message).toMatch(/ECONNREFUSED|Connection terminated/);
  // No retry loop and no wait for the store: it fails as fast as the connect is refused.
  expect(Date.now() - started).toBeLessThan(5_000);

  await link.restore();
  const after = await graph.invoke({ messages: [new HumanMessage({ content: 'after', id: 't3' })] }, config);
  // The cut turn is not there: nothing of it was written.
  expect(after.messages.map((m) => m.id)).toEqual(['t1', 't1:reply', 't3', 't3:reply']);
});
