import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../src/topology/redis-server.ts';

describe('startRedisServer', () => {
  const started: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('starts a real redis-server on an ephemeral port and stops it by pid', async () => {
    const server = await startRedisServer();
    started.push(server);
    const client = new Redis(server.url, { lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    const pid = server.pid;
    await server.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('stopped with keepDir, restarted, then stopped again: the second stop stops it', async () => {
    const server = await startRedisServer();
    started.push(server);
    await server.stop({ keepDir: true });
    await server.restart();
    const pid = server.pid;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await server.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('keeps acknowledged writes across a kill -9 with AOF and loses them without', async () => {
    for (const aof of [true, false]) {
      const server = await startRedisServer({ aof });
      started.push(server);
      const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      await client.set('k', 'v');
      client.disconnect();
      await server.restart({ hard: true });
      const again = new Redis(server.url, { maxRetriesPerRequest: 1 });
      expect(await again.get('k')).toBe(aof ? 'v' : null);
      again.disconnect();
    }
  });
});
