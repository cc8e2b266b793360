import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLangchainIoredisAdapter } from '../../backends/langchain-ioredis-history/adapter.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { Client, TOKEN_A } from '../reference-service/helpers.ts';
import { contractSmoke, serve } from './helpers/contract-smoke.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('langchain-ioredis-history (@langchain/community ioredis RedisChatMessageHistory)', () => {
  it('speaks the contract; a replayed turnId is appended again (the library has no dedupe)', async () => {
    await contractSmoke({ make: () => createLangchainIoredisAdapter({ storeUrl: redis.url }), replayDedupes: false, session: 'smoke' });
  });

  it('uses the library as documented: one list per session key, one shared client, message ids kept', async () => {
    const server = await serve(await createLangchainIoredisAdapter({ storeUrl: redis.url }));
    const raw = new Redis(redis.url);
    try {
      const before = Number(/connected_clients:(\d+)/.exec(await raw.info('clients'))![1]);
      const a = new Client(server.url, TOKEN_A);
      for (const n of [1, 2, 3]) await a.append('doc', `u${n}`, `m${n}`);
      const stored = (await raw.lrange('stateproof:tenant-a:doc', 0, -1)).map((s) => JSON.parse(s));
      expect(stored.map((m) => m.data.id)).toEqual(['u3:assistant', 'u3:user', 'u2:assistant', 'u2:user', 'u1:assistant', 'u1:user']);
      expect(await raw.ttl('stateproof:tenant-a:doc')).toBe(-1);
      // A history object per request on the one `client`: no connection per request.
      expect(Number(/connected_clients:(\d+)/.exec(await raw.info('clients'))![1])).toBe(before);
    } finally {
      raw.disconnect();
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
describe.skipIf(!existsSync(VALKEY))('langchain-ioredis-history on valkey-server', () => {
  it('speaks the contract on Valkey as on Redis', async () => {
    const valkey = await startValkey();
    try {
      const probe = new Redis(valkey.url);
      expect(await probe.info('server')).toContain('valkey_version:');
      probe.disconnect();
      await contractSmoke({ make: () => createLangchainIoredisAdapter({ storeUrl: valkey.url }), replayDedupes: false, session: 'valkey' });
    } finally {
      await valkey.stop();
    }
  });
});
