import { createClient } from 'redis';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLangchainRedisAdapter } from '../../backends/langchain-redis-history/adapter.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { contractSmoke, serve } from './helpers/contract-smoke.ts';
import { Client, TOKEN_A } from '../reference-service/helpers.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('langchain-redis-history (@langchain/redis RedisChatMessageHistory)', () => {
  it('speaks the contract; a replayed turnId is appended again (the library has no dedupe)', async () => {
    await contractSmoke({ make: () => createLangchainRedisAdapter({ storeUrl: redis.url }), replayDedupes: false, session: 'smoke' });
  });

  it("uses the library as documented: one LPUSH'd list per session key, newest first, message ids kept", async () => {
    const server = await serve(await createLangchainRedisAdapter({ storeUrl: redis.url }));
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const a = new Client(server.url, TOKEN_A);
      await a.append('doc', 'u1', 'first');
      await a.append('doc', 'u2', 'second');
      // The library's key is the sessionId it was given: the tenant prefix is the namespace.
      expect(await raw.type('stateproof:tenant-a:doc')).toBe('list');
      const stored = (await raw.lRange('stateproof:tenant-a:doc', 0, -1)).map((s) => JSON.parse(s));
      expect(stored.map((m) => [m.type, m.data.id, m.data.content])).toEqual([
        ['ai', 'u2:assistant', 'Noted (6 chars).'],
        ['human', 'u2:user', 'second'],
        ['ai', 'u1:assistant', 'Noted (5 chars).'],
        ['human', 'u1:user', 'first'],
      ]);
      // No sessionTTL was given (the docs make it optional), so the library sets none.
      expect(await raw.ttl('stateproof:tenant-a:doc')).toBe(-1);
    } finally {
      await raw.disconnect();
      await server.close();
    }
  });
});

// The same adapter on Valkey: it speaks only commands both stores have (LPUSH, LRANGE, DEL).
const VALKEY = '/usr/bin/valkey-server';
/** The topology's redis-server runner, pointed at valkey-server by its documented variable. */
function startValkey(): Promise<RedisServer> {
  const before = process.env.STATEPROOF_REDIS_SERVER;
  process.env.STATEPROOF_REDIS_SERVER = VALKEY;
  try {
    return startRedisServer(); // reads the variable before its first await
  } finally {
    if (before === undefined) delete process.env.STATEPROOF_REDIS_SERVER;
    else process.env.STATEPROOF_REDIS_SERVER = before;
  }
}
describe.skipIf(!existsSync(VALKEY))('langchain-redis-history on valkey-server', () => {
  it('speaks the contract on Valkey as on Redis', async () => {
    const valkey = await startValkey();
    try {
      const probe = new Redis(valkey.url);
      expect(await probe.info('server')).toContain('valkey_version:');
      probe.disconnect();
      await contractSmoke({ make: () => createLangchainRedisAdapter({ storeUrl: valkey.url }), replayDedupes: false, session: 'valkey' });
    } finally {
      await valkey.stop();
    }
  });
});
