/**
 * Minimal reproductions, no harness, of what the two LangChain Redis histories do:
 * @langchain/redis (node-redis 4) and @langchain/community's ioredis history. Both are
 * BaseListChatMessageHistory on one Redis list per session: addMessages is one LPUSH per message.
 */
import { RedisChatMessageHistory as IoredisHistory } from '@langchain/community/stores/message/ioredis';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { RedisChatMessageHistory } from '@langchain/redis';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../src/topology/redis-server.ts';
import { startTcpCut } from '../helpers/tcp-cut.ts';

let redis: RedisServer | undefined;
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  // Each step on its own: a client's disconnect that rejects (node-redis on a closed socket) must
  // not leave the redis-server running, as it did.
  try {
    for (const f of cleanup.splice(0)) await Promise.resolve().then(f).catch(() => {});
  } finally {
    await redis?.stop();
    redis = undefined;
  }
});

function nodeRedisHistory(url: string, sessionId: string) {
  const h = new RedisChatMessageHistory({ sessionId, config: { url } });
  if (h.client.listenerCount('error') === 0) h.client.on('error', () => {});
  cleanup.push(() => h.client.isOpen && h.client.disconnect());
  return h;
}

function ioredisClient(url: string, opts: Record<string, unknown> = {}) {
  const client = new Redis(url, opts);
  client.on('error', () => {});
  cleanup.push(() => client.disconnect());
  return client;
}

const turn = (id: string, text: string) => [new HumanMessage({ content: text, id: `${id}:user` }), new AIMessage({ content: 'ok', id: `${id}:assistant` })];

/** Pending after `ms`? Used only while the server is stopped: it shows no timeout fired. */
const stillPending = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

it('@langchain/redis 1.1.2 and @langchain/community 1.1.29 (ioredis): a replayed message id is stored twice', async () => {
  redis = await startRedisServer();
  const a = nodeRedisHistory(redis.url, 'replay-a');
  const b = new IoredisHistory({ sessionId: 'replay-b', client: ioredisClient(redis.url) });
  for (const h of [a, b]) {
    await h.addMessages(turn('t1', 'hello'));
    await h.addMessages(turn('t1', 'hello'));
    expect((await h.getMessages()).map((m) => m.id)).toEqual(['t1:user', 't1:assistant', 't1:user', 't1:assistant']);
  }
});

it('@langchain/redis 1.1.2: two writers on one session interleave their messages (one LPUSH per message, no transaction)', async () => {
  redis = await startRedisServer();
  const url = redis.url;
  // Two processes' worth of clients: the pool keys clients by config object.
  const one = nodeRedisHistory(url, 'shared');
  const two = nodeRedisHistory(url, 'shared');
  await one.ensureReadiness();
  await two.ensureReadiness();
  let interleaved = 0;
  const rounds = Number(process.env.REPRO_ROUNDS ?? 10);
  for (let i = 0; i < rounds; i++) {
    await one.clear();
    await Promise.all([one.addMessages(turn('a', 'from one')), two.addMessages(turn('b', 'from two'))]);
    const ids = (await one.getMessages()).map((m) => m.id);
    expect(ids).toHaveLength(4);
    if (!(ids[1] === `${ids[0]!.split(':')[0]}:assistant`)) interleaved++;
  }
  if (process.env.REPRO_ROUNDS) console.info(`interleaved in ${interleaved}/${rounds} rounds`);
  // Observed: every round interleaves (user, user, assistant, assistant).
  expect(interleaved).toBeGreaterThanOrEqual(1);
});

it('@langchain/redis 1.1.2 (node-redis 4.7.1) and @langchain/community 1.1.29 (ioredis 5.11.1): against a stalled server both wait with no timeout, then answer when it resumes', async () => {
  redis = await startRedisServer();
  const a = nodeRedisHistory(redis.url, 'stall');
  await a.addMessages(turn('t1', 'hello'));
  const b = new IoredisHistory({ sessionId: 'stall', client: ioredisClient(redis.url) });
  process.kill(redis.pid, 'SIGSTOP');
  let resumed = false;
  try {
    const pa = a.getMessages();
    const pb = b.getMessages();
    expect(await stillPending(pa, 1500)).toBe(true);
    expect(await stillPending(pb, 100)).toBe(true);
    process.kill(redis.pid, 'SIGCONT');
    resumed = true;
    expect((await pa).map((m) => m.id)).toEqual(['t1:user', 't1:assistant']);
    expect((await pb).map((m) => m.id)).toEqual(['t1:user', 't1:assistant']);
  } finally {
    if (!resumed) process.kill(redis.pid, 'SIGCONT');
  }
});

it("@langchain/redis 1.1.2: with the server down, ensureReadiness() calls connect() on the reconnecting client, so every call fails at once with 'Socket already opened' — and works again once the server is back", async () => {
  redis = await startRedisServer();
  const h = nodeRedisHistory(redis.url, 'down');
  await h.addMessages(turn('t1', 'hello'));
  await redis.stop({ keepDir: true });
  for (let i = 0; i < 50 && h.client.isReady; i++) await new Promise((r) => setTimeout(r, 20));
  expect(h.client.isReady).toBe(false);
  expect(h.client.isOpen).toBe(true); // node-redis is reconnecting on its own
  await expect(h.getMessages()).rejects.toThrow('Socket already opened');
  await expect(h.addMessage(new HumanMessage('lost'))).rejects.toThrow('Socket already opened');
  await redis.restart();
  for (let i = 0; i < 250 && !h.client.isReady; i++) await new Promise((r) => setTimeout(r, 20));
  expect(h.client.isReady).toBe(true);
  // No AOF: the restarted server is empty, and the history reads as such.
  expect(await h.getMessages()).toEqual([]);
});

it('@langchain/community 1.1.29 (ioredis 5.11.1, default options): with the server down, calls queue offline and fail only after 20 reconnect attempts', { timeout: 60_000 }, async () => {
  redis = await startRedisServer();
  const client = ioredisClient(redis.url);
  const h = new IoredisHistory({ sessionId: 'down', client });
  await h.addMessages(turn('t1', 'hello'));
  await redis.stop();
  const p = h.getMessages();
  expect(await stillPending(p, 1000)).toBe(true);
  await expect(p).rejects.toMatchObject({ name: 'MaxRetriesPerRequestError' });
});

/** Settled within `ms`, and how: the first lines of what a caller sees while the link is cut. */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<{ state: 'resolved' | 'rejected' | 'pending'; error?: Error; atMs: number }> {
  const started = Date.now();
  return Promise.race([
    p.then(
      () => ({ state: 'resolved' as const, atMs: Date.now() - started }),
      (error: Error) => ({ state: 'rejected' as const, error, atMs: Date.now() - started }),
    ),
    new Promise<{ state: 'pending'; atMs: number }>((r) => setTimeout(() => r({ state: 'pending', atMs: ms }), ms)),
  ]);
}

const CUT_HOLD_MS = 2_500;

it("@langchain/redis 1.1.2 (node-redis 4.7.1) and @langchain/community 1.1.29 (ioredis 5.11.1): with the link to Redis cut, node-redis's history rejects addMessage at once ('Socket already opened') while ioredis's holds it until the link is back, then stores it", { timeout: 30_000 }, async () => {
  redis = await startRedisServer();
  const link = await startTcpCut(redis.port);
  cleanup.push(() => link.close());
  const viaLink = link.url('redis');
  const a = nodeRedisHistory(viaLink, 'cut-a');
  const b = new IoredisHistory({ sessionId: 'cut-b', client: ioredisClient(viaLink) });
  await a.addMessages(turn('t1', 'hello'));
  await b.addMessages(turn('t1', 'hello'));

  await link.cut(); // connections destroyed, reconnects refused
  const cutAt = Date.now();
  // Sent as the link goes: node-redis fails what was on the dead socket.
  const first = await settledWithin(a.addMessage(new HumanMessage({ content: 'at the cut', id: 't2:user' })), 1_000);
  expect(first.state).toBe('rejected');
  expect(first.error?.message).toMatch(/^Socket (closed unexpectedly|already opened)$/);
  for (let i = 0; i < 50 && a.client.isReady; i++) await new Promise((r) => setTimeout(r, 20));
  expect(a.client.isReady).toBe(false);
  const pa = a.addMessage(new HumanMessage({ content: 'during the cut', id: 't3:user' }));
  const pb = b.addMessage(new HumanMessage({ content: 'during the cut', id: 't3:user' }));
  pb.catch(() => {}); // judged below, after the restore
  const nodeRedis = await settledWithin(pa, 1_000);
  const ioredis = await settledWithin(pb, 1_000);
  // node-redis is reconnecting on its own (isOpen, not isReady); the history's ensureReadiness()
  // calls connect() on it, which throws: every call fails at once for as long as the cut lasts.
  expect(a.client.isOpen).toBe(true);
  expect(nodeRedis.state).toBe('rejected');
  expect(nodeRedis.error?.message).toBe('Socket already opened');
  // ioredis queues the command offline: no answer, no error, for as long as its retries last.
  expect(ioredis.state).toBe('pending');

  await new Promise((r) => setTimeout(r, Math.max(0, CUT_HOLD_MS - (Date.now() - cutAt))));
  expect(await settledWithin(pb, 10)).toMatchObject({ state: 'pending' });
  await link.restore();
  const restoredAt = Date.now();
  await pb; // answers once ioredis reconnects (its next retry, at most 2 s apart)
  const heldMs = Date.now() - cutAt;
  expect(heldMs).toBeGreaterThanOrEqual(CUT_HOLD_MS);
  expect(Date.now() - restoredAt).toBeLessThan(5_000);
  if (process.env.REPRO_ROUNDS) console.info(`node-redis rejected after ${first.atMs} ms ('${first.error?.message}'), then after ${nodeRedis.atMs} ms; ioredis held ${heldMs} ms (cut ${CUT_HOLD_MS} ms)`);

  // The queued write landed once; node-redis's rejected one is not there, and its history works again.
  expect((await b.getMessages()).map((m) => m.id)).toEqual(['t1:user', 't1:assistant', 't3:user']);
  for (let i = 0; i < 250 && !a.client.isReady; i++) await new Promise((r) => setTimeout(r, 20));
  expect((await a.getMessages()).map((m) => m.id)).toEqual(['t1:user', 't1:assistant']);
});
