/**
 * `npm run bench backends`: the CPU the adapter layer adds per turn, for each adapter.
 *
 *   served   16 HTTP connections (undici) → adapter process: contract server → adapter → library
 *            over its own in-memory store (LangChain's InMemoryChatMessageHistory, LangGraph's
 *            MemorySaver, Mastra's InMemoryStore) — CPU of that process per turn, from /proc
 *   library  the same library calls in a process of their own, no HTTP, same in-memory store
 *   mapped   adapter.append() in a process of its own, no HTTP: the library plus the adapter's mapping
 *   layer    served − library: HTTP, auth, input checks, JSON, message mapping and pairing
 *
 * Every measurement is a fresh process, warmed up for WARMUP_MS first, so heaps and JIT state are
 * alike (the in-memory stores keep every checkpoint, and a heap that grew over earlier rounds would
 * charge its GC to whoever came last).
 * Target: layer ≤ 10 % of library. Beside it, the reference service's own HTTP path per turn
 * (child process, real Redis, model latency 0), as a yardstick for what a contract server costs.
 * Each worker writes TURNS_PER_SESSION turns per session, then moves on, so LangGraph's growing
 * message state costs the same in every measurement. ROUNDS rounds alternate; medians are printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InMemoryChatMessageHistory } from '@langchain/core/chat_history';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { MemorySaver } from '@langchain/langgraph';
import { Agent } from '@mastra/core/agent';
import { InMemoryStore } from '@mastra/core/storage';
import { Memory } from '@mastra/memory';
import { Pool } from 'undici';
import { buildGraph, graphAdapter } from '../backends/langgraph-postgres/adapter.ts';
import { deterministicModel, mastraAdapter, memoryOptions, threadId } from '../backends/mastra-postgres/adapter.ts';
import { startContractServer } from '../backends/shared/contract-server.ts';
import { parseTokens } from '../backends/shared/launcher.ts';
import { historyKey, listHistoryAdapter } from '../backends/shared/list-history.ts';
import { replyFor, type MemoryAdapter } from '../backends/shared/memory.ts';
import { startRedisServer } from '../src/topology/redis-server.ts';

const CONNECTIONS = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3_000);
const TURNS_PER_SESSION = 10;
const WARMUP_MS = 1_500;
const WINDOW_TURNS = 20;
const here = fileURLToPath(import.meta.url);
const TENANT = 'tenant-a';
const TOKEN = 'tenant-a-token';
const KINDS = ['langchain-history', 'langgraph', 'mastra'] as const;
type Kind = (typeof KINDS)[number];

/** Each adapter with its library over the library's own in-memory store, and the bare library call. */
function fakeBacked(kind: Kind): { adapter: MemoryAdapter; direct: (session: string, turnId: string, content: string) => Promise<unknown> } {
  if (kind === 'langchain-history') {
    const lists = new Map<string, InMemoryChatMessageHistory>();
    const history = (key: string) => {
      let h = lists.get(key);
      if (!h) lists.set(key, (h = new InMemoryChatMessageHistory()));
      return h;
    };
    return {
      adapter: listHistoryAdapter({ history, ready: () => true, close: async () => {}, versions: {} }),
      direct: async (session, turnId, content) => {
        const h = history(historyKey({ tenant: TENANT, sessionId: session }));
        await h.getMessages();
        await h.addMessages([new HumanMessage({ content, id: `${turnId}:user` }), new AIMessage({ content: replyFor(content), id: `${turnId}:assistant` })]);
      },
    };
  }
  if (kind === 'langgraph') {
    const saver = new MemorySaver();
    const seen = new Map<string, boolean>();
    const graph = buildGraph(saver, seen);
    return {
      adapter: graphAdapter(graph, seen, { deleteThread: (id) => saver.deleteThread(id), ready: async () => true, close: async () => {}, versions: {} }),
      direct: (session, turnId, content) =>
        graph.invoke({ messages: [new HumanMessage({ content, id: `${turnId}:user` })] }, { configurable: { thread_id: `${TENANT}:${session}`, turn_id: turnId } }),
    };
  }
  const storage = new InMemoryStore();
  const memory = new Memory({ storage, options: memoryOptions(WINDOW_TURNS) });
  const agent = new Agent({ name: 'bench', instructions: 'Acknowledge.', model: deterministicModel(), memory });
  const store = storage as unknown as Parameters<typeof mastraAdapter>[2];
  return {
    adapter: mastraAdapter(agent, memory, store, { ready: async () => true, close: async () => {}, versions: {} }),
    direct: async (session, turnId, content) => {
      const thread = threadId({ tenant: TENANT, sessionId: session });
      const count = () => store.getMessagesPaginated({ threadId: thread, format: 'v2', selectBy: { pagination: { page: 0, perPage: 1 } } });
      if (await memory.getThreadById({ threadId: thread })) await count();
      await agent.generateLegacy([{ id: `${thread}:${turnId}:user`, role: 'user', content }], { memory: { thread, resource: TENANT } });
      await count();
    },
  };
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function spawnReady(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`${args.join(' ')} exited before it was ready`);
    }),
  ])) as [string];
  return { child, url: line.replace(/^.* listening on /, '') };
}

let sessionSeq = 0;
/** Turns over HTTP for ROUND_MS; returns turns done and the server's CPU ms meanwhile. */
async function loadOver(url: string, pid: number, label: string, ms = ROUND_MS): Promise<{ turns: number; cpuMs: number; errors: number }> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  let turns = 0;
  let errors = 0;
  const cpu0 = cpuMsOf(pid);
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const session = `${label}-${++sessionSeq}`;
        for (let t = 0; t < TURNS_PER_SESSION && performance.now() < end; t++) {
          const res = await pool.request({ method: 'POST', path: `/v1/sessions/${session}/turns`, headers, body: `{"turnId":"t${t}","content":"hello number ${t}"}` });
          await res.body.text();
          if (res.statusCode === 200) turns++;
          else errors++;
        }
      }
    }),
  );
  const cpuMs = cpuMsOf(pid) - cpu0;
  await pool.close();
  return { turns, cpuMs, errors };
}

/** The bare library calls in this process, CONNECTIONS at a time, for ROUND_MS. */
async function loadDirect(direct: ReturnType<typeof fakeBacked>['direct'], label: string, ms: number): Promise<{ turns: number; cpuMs: number }> {
  let turns = 0;
  const c0 = process.cpuUsage();
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const session = `${label}-${++sessionSeq}`;
        for (let t = 0; t < TURNS_PER_SESSION && performance.now() < end; t++) {
          await direct(session, `t${t}`, `hello number ${t}`);
          turns++;
        }
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return { turns, cpuMs: (c.user + c.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const usPerTurn = (r: { turns: number; cpuMs: number }) => (r.cpuMs * 1000) / Math.max(1, r.turns);

/** Child mode `--direct <kind> [--mapped]`: warm up, measure, print one JSON line. */
async function runDirect(kind: Kind, mapped: boolean): Promise<void> {
  const { direct, adapter } = fakeBacked(kind);
  const call = mapped ? (session: string, turnId: string, content: string) => adapter.append({ tenant: TENANT, sessionId: session }, { turnId, content, reply: replyFor(content) }) : direct;
  await loadDirect(call, 'warm', WARMUP_MS);
  process.stdout.write(`${JSON.stringify(await loadDirect(call, 'direct', ROUND_MS))}\n`);
}

async function measureDirect(kind: Kind, mapped = false): Promise<{ turns: number; cpuMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here, '--direct', kind, ...(mapped ? ['--mapped'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  await once(child, 'exit');
  return JSON.parse(line) as { turns: number; cpuMs: number };
}

async function measureServed(args: string[], label: string): Promise<{ turns: number; cpuMs: number; errors: number }> {
  const { child, url } = await spawnReady(args);
  try {
    await loadOver(url, child.pid!, `${label}-warm`, WARMUP_MS);
    return await loadOver(url, child.pid!, label);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

async function serve(kind: Kind): Promise<void> {
  const { adapter } = fakeBacked(kind);
  const server = await startContractServer({ adapter, tokens: parseTokens(`${TENANT}=${TOKEN}`), name: `bench-${kind}`, log: () => {} });
  process.stdout.write(`bench-${kind} listening on ${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  await using redis = await startRedisServer();
  const referenceArgs = [path.join(here, '../../bin/stateproof-service.mjs'), '--redis', redis.url, '--port', '0', '--model-latency-ms', '0', '--max-inflight', '4096'];
  const figures = new Map<string, number[]>();
  const push = (k: string, v: number) => figures.set(k, [...(figures.get(k) ?? []), v]);
  for (let round = 0; round < ROUNDS; round++) {
    push('reference', usPerTurn(await measureServed(referenceArgs, `ref${round}`)));
    for (const kind of KINDS) {
      const over = await measureServed(['--import', 'tsx', here, '--serve', kind], `${kind}${round}`);
      if (over.errors) throw new Error(`${kind}: ${over.errors} turns failed`);
      push(`${kind} served`, usPerTurn(over));
      push(`${kind} library`, usPerTurn(await measureDirect(kind)));
      push(`${kind} mapped`, usPerTurn(await measureDirect(kind, true)));
    }
  }
  const spread = (k: string) => `${Math.min(...figures.get(k)!).toFixed(0)}-${Math.max(...figures.get(k)!).toFixed(0)}`;
  console.log(`CPU per turn, µs: median (range) of ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up; ${CONNECTIONS} connections, ${TURNS_PER_SESSION} turns per session`);
  console.log(`  reference service over HTTP (real Redis)   ${median(figures.get('reference')!).toFixed(0)} (${spread('reference')})`);
  for (const kind of KINDS) {
    const s = median(figures.get(`${kind} served`)!);
    const l = median(figures.get(`${kind} library`)!);
    const m = median(figures.get(`${kind} mapped`)!);
    const layer = s - l;
    console.log(
      `  ${kind.padEnd(18)} served ${s.toFixed(0)} (${spread(`${kind} served`)})  mapped ${m.toFixed(0)} (${spread(`${kind} mapped`)})  library ${l.toFixed(0)} (${spread(`${kind} library`)})  layer ${layer.toFixed(0)} = ${((100 * layer) / l).toFixed(0)} % of the library (target <= 10 %)`,
    );
  }
}

const mode = process.argv.findIndex((a) => a === '--serve' || a === '--direct');
if (mode === -1) await main();
else if (process.argv[mode] === '--serve') await serve(process.argv[mode + 1] as Kind);
else await runDirect(process.argv[mode + 1] as Kind, process.argv.includes('--mapped'));
