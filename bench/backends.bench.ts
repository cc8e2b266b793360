/**
 * `npm run bench backends`: CPU per turn of each adapter, split into what is ours and what is the
 * library's, beside the reference service's HTTP path — all measured side by side in one run.
 *
 *   reference  the reference service over HTTP (child process, real Redis, model latency 0)
 *   layer      the adapter process over HTTP with its library replaced by a no-op fake of the
 *              library's API (a Map behind graph.invoke / agent.generateLegacy / getMessages):
 *              our code only — contract server, auth, input checks, JSON, the adapter's mapping
 *   served     the adapter process over HTTP with the real library on its own in-memory store
 *              (LangChain's InMemoryChatMessageHistory, LangGraph's MemorySaver, Mastra's InMemoryStore)
 *   library    the library's own calls alone in a process, no HTTP, same in-memory store, each
 *              call started from a fresh event-loop turn (setImmediate), as a request is
 *   back-to-back  the same calls chained with no event-loop turn in between
 *
 * Why both library figures: an in-memory store answers every await as a microtask, so 16 chains
 * of back-to-back calls never let the event loop run for the whole window (0 timer ticks), where a
 * served process turns it for every request. Back-to-back, over equal times after a 1.5 s warm-up,
 * is how earlier versions of this bench measured "library", and served − that is what they called
 * the adapter layer (82-90 % for LangGraph and Mastra). It is not the layer: the layer is measured
 * directly here, with the library faked (backends/README.md has why the old figure was wrong).
 *
 * Targets: layer ≤ 1.10 × the reference service's HTTP path per turn (the adapter adds at most
 * 10 % over what a contract server costs), and layer ≤ 10 % of the library's own CPU. Every
 * measurement is a fresh process (the library's two in one process, each on a store of its own,
 * measured in halves A B B A) that does a fixed number of turns after warm-up turns, so heaps, JIT
 * state and store sizes are alike (the in-memory stores keep everything). Each worker writes TURNS_PER_SESSION turns per session,
 * then moves on, so growing thread state costs the same everywhere. ROUNDS rounds alternate;
 * medians are printed, with the range.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InMemoryChatMessageHistory, type BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
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
import { assistantMessageId, replyFor, type MemoryAdapter } from '../backends/shared/memory.ts';
import { startRedisServer } from '../src/topology/redis-server.ts';

const CONNECTIONS = 16;
const ROUNDS = Number(process.env.STATEPROOF_BENCH_ROUNDS ?? process.env.BENCH_ROUNDS ?? 3);
const TURNS_PER_SESSION = 10;
/**
 * Turns per measurement, after `warm` warm-up turns in the same process and store. Counts, not
 * times: Mastra's InMemoryStore filters every stored message on each read, so its cost per turn
 * grows with the turns stored, and only equal counts compare alike. The warm-up is long because
 * LangGraph's and Mastra's code takes thousands of calls to reach its steady JIT state (measured in
 * chunks of 320 turns: Mastra 4.0 ms a turn in the first, 1.1-1.9 ms after ~2,500 turns).
 */
const TURNS = { light: { warm: 3_000, measure: 6_000 }, heavy: { warm: 2_560, measure: 640 } } as const;
/** What costs milliseconds a turn: the real LangGraph and Mastra. */
const heavy = (kind: Kind | 'reference', what: string) => (kind === 'langgraph' || kind === 'mastra') && what !== 'layer';
const turnsFor = (kind: Kind | 'reference', what: string) => TURNS[heavy(kind, what) ? 'heavy' : 'light'];
const HALF = (n: number) => Math.round(n / 2 / TURNS_PER_SESSION) * TURNS_PER_SESSION;
const WINDOW_TURNS = 20;
const here = fileURLToPath(import.meta.url);
const TENANT = 'tenant-a';
const TOKEN = 'tenant-a-token';
const KINDS = ['langchain-history', 'langgraph', 'mastra'] as const;
type Kind = (typeof KINDS)[number];
type Direct = (session: string, turnId: string, content: string) => Promise<unknown>;
type Measured = { turns: number; cpuMs: number; timerTicks: number; ms: number };
const noop = { ready: async () => true, close: async () => {}, versions: {} };

/** Each adapter with its library over the library's own in-memory store, and the bare library call. */
function fakeBacked(kind: Kind): { adapter: MemoryAdapter; direct: Direct } {
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
      adapter: graphAdapter(graph, seen, { ...noop, deleteThread: (id) => saver.deleteThread(id) }),
      direct: (session, turnId, content) =>
        graph.invoke({ messages: [new HumanMessage({ content, id: `${turnId}:user` })] }, { configurable: { thread_id: `${TENANT}:${session}`, turn_id: turnId } }),
    };
  }
  const storage = new InMemoryStore();
  const memory = new Memory({ storage, options: memoryOptions(WINDOW_TURNS) });
  const agent = new Agent({ name: 'bench', instructions: 'Acknowledge.', model: deterministicModel(), memory });
  const store = storage as unknown as Parameters<typeof mastraAdapter>[2];
  return {
    adapter: mastraAdapter(agent, memory, store, noop),
    direct: async (session, turnId, content) => {
      const thread = threadId({ tenant: TENANT, sessionId: session });
      const count = () => store.getMessagesPaginated({ threadId: thread, format: 'v2', selectBy: { pagination: { page: 0, perPage: 1 } } });
      if (await memory.getThreadById({ threadId: thread })) await count();
      await agent.generateLegacy([{ id: `${thread}:${turnId}:user`, role: 'user', content }], { memory: { thread, resource: TENANT } });
      await count();
    },
  };
}

/**
 * Each adapter with its library replaced by a no-op fake of the calls the adapter makes: a Map of
 * threads and what the real call would return. What is left is our code, and the message objects
 * the adapter itself builds.
 */
function libraryFaked(kind: Kind): MemoryAdapter {
  if (kind === 'langchain-history') {
    const lists = new Map<string, BaseMessage[]>();
    const history = (key: string) => {
      const list = lists.get(key) ?? [];
      lists.set(key, list);
      // A fresh array, as the Redis histories return: the adapter counts it after adding.
      return { getMessages: async () => [...list], addMessages: async (ms: BaseMessage[]) => void list.push(...ms), clear: async () => void (list.length = 0) } as unknown as BaseListChatMessageHistory;
    };
    return listHistoryAdapter({ history, ready: () => true, close: async () => {}, versions: {} });
  }
  if (kind === 'langgraph') {
    const threads = new Map<string, BaseMessage[]>();
    const graph = {
      invoke: async (input: { messages: BaseMessage[] }, config: { configurable: { thread_id: string; turn_id: string } }) => {
        const list = threads.get(config.configurable.thread_id) ?? [];
        threads.set(config.configurable.thread_id, list);
        list.push(...input.messages, new AIMessage({ content: replyFor(String(input.messages[0]?.content ?? '')), id: assistantMessageId(config.configurable.turn_id) }));
        return { messages: list };
      },
      getState: async (config: { configurable: { thread_id: string } }) => ({ values: { messages: threads.get(config.configurable.thread_id) ?? [] }, config: { configurable: {} } }),
    } as unknown as Parameters<typeof graphAdapter>[0];
    return graphAdapter(graph, new Map(), { ...noop, deleteThread: async (id) => void threads.delete(id) });
  }
  const threads = new Map<string, { resourceId: string; messages: number }>();
  const agent = {
    generateLegacy: async (_messages: unknown, opts: { memory: { thread: string; resource: string } }) => {
      const t = threads.get(opts.memory.thread) ?? { resourceId: opts.memory.resource, messages: 0 };
      threads.set(opts.memory.thread, t);
      t.messages += 2;
      return { text: '' };
    },
  } as unknown as Agent;
  const memory = { getThreadById: async ({ threadId: id }: { threadId: string }) => threads.get(id) ?? null } as unknown as Memory;
  const storage = { getMessagesPaginated: async ({ threadId: id }: { threadId: string }) => ({ total: threads.get(id)?.messages ?? 0, messages: [] }) } as unknown as Parameters<typeof mastraAdapter>[2];
  return mastraAdapter(agent, memory, storage, noop);
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
/** `wanted` turns over HTTP, a whole session at a time; returns turns done and the server's CPU ms meanwhile. */
async function loadOver(url: string, pid: number, label: string, wanted: number): Promise<{ turns: number; cpuMs: number; errors: number }> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  let turns = 0;
  let errors = 0;
  let claimed = 0;
  const cpu0 = cpuMsOf(pid);
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (claimed < wanted) {
        claimed += TURNS_PER_SESSION;
        const session = `${label}-${++sessionSeq}`;
        for (let t = 0; t < TURNS_PER_SESSION; t++) {
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

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `wanted` bare library calls in this process, CONNECTIONS chains at a time. `hop`: each call
 * starts from a fresh event-loop turn, as a request does; without it the chains never yield.
 */
async function loadDirect(direct: Direct, label: string, wanted: number, hop: boolean): Promise<Measured> {
  let turns = 0;
  let claimed = 0;
  let timerTicks = 0;
  const ticker = setInterval(() => timerTicks++, 10);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (claimed < wanted) {
        claimed += TURNS_PER_SESSION;
        const session = `${label}-${++sessionSeq}`;
        for (let t = 0; t < TURNS_PER_SESSION; t++) {
          if (hop) await nextTurn();
          await direct(session, `t${t}`, `hello number ${t}`);
          turns++;
        }
      }
    }),
  );
  const c = process.cpuUsage(c0);
  clearInterval(ticker);
  return { turns, cpuMs: (c.user + c.system) / 1000, timerTicks, ms: performance.now() - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const usPerTurn = (r: { turns: number; cpuMs: number }) => (r.cpuMs * 1000) / Math.max(1, r.turns);

/**
 * Child mode `--direct <kind>`: the library with and without event-loop turns, each on a store of
 * its own warmed like a served process's, measured in halves in the order A B B A so neither gains
 * from the JIT warming further meanwhile; one JSON line.
 */
async function runDirect(kind: Kind): Promise<void> {
  const n = turnsFor(kind, 'library');
  const modes = [
    { name: 'library', hop: true, direct: fakeBacked(kind).direct },
    { name: 'backToBack', hop: false, direct: fakeBacked(kind).direct },
  ];
  for (const m of modes) await loadDirect(m.direct, `warm-${m.name}`, n.warm, m.hop);
  const out: Record<string, Measured> = {};
  for (const m of [modes[0]!, modes[1]!, modes[1]!, modes[0]!]) {
    const r = await loadDirect(m.direct, m.name, HALF(n.measure), m.hop);
    const sum = out[m.name];
    out[m.name] = sum ? { turns: sum.turns + r.turns, cpuMs: sum.cpuMs + r.cpuMs, timerTicks: sum.timerTicks + r.timerTicks, ms: sum.ms + r.ms } : r;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function measureDirect(kind: Kind): Promise<Record<'library' | 'backToBack', Measured>> {
  const child = spawn(process.execPath, ['--import', 'tsx', here, '--direct', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  await once(child, 'exit');
  return JSON.parse(line) as Record<'library' | 'backToBack', Measured>;
}

async function measureServed(args: string[], label: string, turns: { warm: number; measure: number }): Promise<{ turns: number; cpuMs: number; errors: number }> {
  const { child, url } = await spawnReady(args);
  try {
    await loadOver(url, child.pid!, `${label}-warm`, turns.warm);
    return await loadOver(url, child.pid!, label, turns.measure);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

/** Child mode `--serve <kind> [--fake]`: the contract server over the real library, or over its no-op fake. */
async function serve(kind: Kind, fake: boolean): Promise<void> {
  const adapter = fake ? libraryFaked(kind) : fakeBacked(kind).adapter;
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
    push('reference', usPerTurn(await measureServed(referenceArgs, `ref${round}`, turnsFor('reference', 'served'))));
    for (const kind of KINDS) {
      for (const [what, extra] of [['served', []], ['layer', ['--fake']]] as const) {
        const over = await measureServed(['--import', 'tsx', here, '--serve', kind, ...extra], `${kind}${round}${what}`, turnsFor(kind, what));
        if (over.errors) throw new Error(`${kind} ${what}: ${over.errors} turns failed`);
        push(`${kind} ${what}`, usPerTurn(over));
      }
      const d = await measureDirect(kind);
      push(`${kind} library`, usPerTurn(d.library));
      push(`${kind} backToBack`, usPerTurn(d.backToBack));
      push(`${kind} ticks`, d.backToBack.timerTicks);
      push(`${kind} windowMs`, d.backToBack.ms);
    }
  }
  const m = (k: string) => median(figures.get(k)!);
  const f = (k: string) => `${m(k).toFixed(0)} (${Math.min(...figures.get(k)!).toFixed(0)}-${Math.max(...figures.get(k)!).toFixed(0)})`;
  const ref = m('reference');
  console.log(
    `CPU per turn, µs: median (range) of ${ROUNDS} rounds; each measurement ${TURNS.heavy.measure} turns after ${TURNS.heavy.warm} warm-up turns (real LangGraph, Mastra) or ${TURNS.light.measure} after ${TURNS.light.warm} (the rest); ${CONNECTIONS} connections, ${TURNS_PER_SESSION} turns per session`,
  );
  console.log(`  reference service over HTTP (real Redis): ${f('reference')}`);
  console.log('  layer: the adapter process over HTTP with its library a no-op fake (our code only). library: the library alone, no HTTP, one event-loop turn per call.');
  console.log('  served: the adapter process over HTTP with the real library on its in-memory store. back-to-back: the library alone, calls chained with no event-loop turn.');
  for (const kind of KINDS) {
    const layer = m(`${kind} layer`);
    const lib = m(`${kind} library`);
    const served = m(`${kind} served`);
    console.log(
      `  ${kind.padEnd(18)} layer ${f(`${kind} layer`)} = ${(layer / ref).toFixed(2)}× the reference (target <= 1.10), ${((100 * layer) / lib).toFixed(1)} % of the library (target <= 10 %)\n` +
        `  ${''.padEnd(18)} library ${f(`${kind} library`)}; served ${f(`${kind} served`)}; served - layer - library ${(served - layer - lib).toFixed(0)}\n` +
        `  ${''.padEnd(18)} back-to-back ${f(`${kind} backToBack`)}: its event loop reached a 10 ms timer ${m(`${kind} ticks`)} times in ${(m(`${kind} windowMs`) / 1000).toFixed(1)} s`,
    );
  }
}

const mode = process.argv.findIndex((a) => a === '--serve' || a === '--direct');
if (mode === -1) await main();
else if (process.argv[mode] === '--serve') await serve(process.argv[mode + 1] as Kind, process.argv.includes('--fake'));
else await runDirect(process.argv[mode + 1] as Kind);
