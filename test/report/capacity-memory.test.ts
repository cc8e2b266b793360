/**
 * MEMORY USAGE by key kind on a real redis-server, in the reference service's key layout: the
 * numbers `capacity` explains used_memory with.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV1Session } from '../../reference-service/schema/v1.ts';
import { sessionKey, turnIdsKey } from '../../reference-service/store/keys.ts';
import { memoryBreakdown, measureCapacity } from '../../src/report/capacity.ts';
import { sampleKeyMemory, snapshotStore, usedMemoryBytes } from '../../src/run/store-snapshot.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';

const SESSIONS = 40;
const TURNS = 200;
let server: RedisServer;
let client: Redis;
let usedBefore: number | null;

beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  usedBefore = await usedMemoryBytes(server.url);
  for (let s = 0; s < SESSIONS; s++) {
    const id = `cap-${s}`;
    // A window of 3 turns in the state string, every turn ever applied in the index.
    const turns = Array.from({ length: 3 }, (_, t) => ({ turnId: `${id}-t${TURNS - 3 + t}`, user: 'question', assistant: 'answer' }));
    await client.set(sessionKey('tenant-a', id), encodeV1Session({ turns }));
    await client.zadd(turnIdsKey('tenant-a', id), ...Array.from({ length: TURNS }, (_, t) => [t + 1, `${id}-t${t}-${'x'.repeat(24)}`]).flat());
  }
  await client.set('unrelated', 'v');
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

describe('key memory in the store snapshot', () => {
  it('counts every key by kind and measures a bounded sample of each with MEMORY USAGE', async () => {
    const all = await sampleKeyMemory(client);
    expect(all!.map((k) => [k.kind, k.keys, k.sampledKeys])).toEqual([
      ['state', SESSIONS, SESSIONS],
      ['turn-id index', SESSIONS, SESSIONS],
      ['other', 1, 1],
    ]);
    const few = await sampleKeyMemory(client, 5);
    expect(few!.map((k) => k.sampledKeys)).toEqual([5, 5, 1]);
    // A mean over 5 of 40 near-identical keys estimates the total closely.
    expect(few![1]!.bytes / all![1]!.bytes).toBeGreaterThan(0.9);
    expect(few![1]!.bytes / all![1]!.bytes).toBeLessThan(1.1);
  });

  it('shows the turn-id index dwarfing the state string, and the rest of used_memory as overhead', async () => {
    const { sessions, extras } = await snapshotStore(server.url);
    expect(sessions).toHaveLength(SESSIONS);
    const c = measureCapacity({
      bytesPerSession: sessions.map((s) => s.bytes),
      usedMemoryBaselineBytes: usedBefore,
      usedMemoryEndBytes: await usedMemoryBytes(server.url),
      keyMemory: extras.keyMemory,
      settings: { windowTurns: 3, ttlSeconds: null },
    });
    const parts = memoryBreakdown(c)!;
    const state = parts.find((p) => p.kind === 'state')!;
    const index = parts.find((p) => p.kind === 'turn-id index')!;
    expect(index.perSessionBytes).toBeGreaterThan(5 * state.perSessionBytes);
    // MEMORY USAGE of the state string is at least its payload (the JSON) plus the key.
    expect(state.perSessionBytes).toBeGreaterThanOrEqual(c.measured.bytesPerSession.p50);
    expect(parts.at(-1)!.kind).toMatch(/not in any key/);
  });
});
