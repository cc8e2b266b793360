// What the fault proxy adds to a store round trip: measured against a real redis-server, and a real
// PostgreSQL in its own protocol, through two embedded proxies in a row, as an instance's store
// traffic goes. Shape and sanity only: the figures themselves are timings (bench/ measures those).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { measureProxyCost } from '../../src/topology/proxy-cost.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { postgresAvailable, startPostgres, type PostgresServer } from '../backends/helpers/pg.ts';

const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

describe('measureProxyCost', () => {
  let redis: RedisServer;
  let proxyServer: ToxiproxyServer;
  let ownPort: number;
  beforeAll(async () => {
    redis = await startRedisServer();
    proxyServer = await startToxiproxyServer({ seed: 3 });
    const client = new Toxiproxy(proxyServer.url);
    const front = await client.createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
    const own = await client.createProxy({ name: 'redis-i1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${portOf(front.listen)}` });
    ownPort = portOf(own.listen);
  });
  afterAll(async () => {
    await proxyServer?.close();
    await redis?.stop();
  });

  it('takes N interleaved PINGs each way and reports percentiles with the added cost floored at zero', async () => {
    const c = await measureProxyCost({ host: '127.0.0.1', port: redis.port }, { host: '127.0.0.1', port: ownPort }, { via: ['redis-i1', 'redis'], proxy: 'embedded', samples: 50 });
    expect(c).toMatchObject({ samples: 50, probe: 'PING', via: ['redis-i1', 'redis'], proxy: 'embedded' });
    for (const path of [c.directMs, c.proxiedMs]) {
      expect(path.p50).toBeGreaterThan(0);
      expect(path.p99).toBeGreaterThanOrEqual(path.p50);
    }
    expect(c.addedMs.p50).toBe(Math.max(0, c.proxiedMs.p50 - c.directMs.p50));
    expect(c.addedMs.p99).toBe(Math.max(0, c.proxiedMs.p99 - c.directMs.p99));
    // It closes what it opened: the proxy's connection goes away (bounded wait: closing is async).
    for (let i = 0; i < 100 && proxyServer.proxies.get('redis-i1').connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(proxyServer.proxies.get('redis-i1').connectionCount).toBe(0);
  });

  it('gives up after its timeout, saying what it measured, when a path never answers', async () => {
    const held = new Set<net.Socket>();
    const mute = net.createServer((s) => {
      s.on('error', () => {});
      held.add(s);
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as net.AddressInfo).port;
    await expect(measureProxyCost({ host: '127.0.0.1', port: redis.port }, { host: '127.0.0.1', port }, { via: ['x'], proxy: 'embedded', samples: 10, timeoutMs: 300 })).rejects.toThrow(
      /fault proxy's cost \(10 PING round trips each way\) took over 300 ms/,
    );
    for (const s of held) s.destroy();
    await new Promise((r) => mute.close(r));
  });

  it('refuses a sample count that is not a positive integer', async () => {
    await expect(measureProxyCost({ host: '127.0.0.1', port: redis.port }, { host: '127.0.0.1', port: ownPort }, { via: [], proxy: 'embedded', samples: 0 })).rejects.toThrow(RangeError);
  });
});

describe.runIf(postgresAvailable())('measureProxyCost on PostgreSQL', () => {
  let server: PostgresServer;
  let proxyServer: ToxiproxyServer;
  let ownPort: number;
  beforeAll(async () => {
    server = await startPostgres();
    proxyServer = await startToxiproxyServer({ seed: 3 });
    const client = new Toxiproxy(proxyServer.url);
    const front = await client.createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${server.port}` });
    const own = await client.createProxy({ name: 'redis-i1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${portOf(front.listen)}` });
    ownPort = portOf(own.listen);
  }, 60_000);
  afterAll(async () => {
    await proxyServer?.close();
    await server?.stop();
  });

  it('times SELECT 1 round trips in the Postgres protocol both ways, and closes its connections', async () => {
    const c = await measureProxyCost({ host: '127.0.0.1', port: server.port }, { host: '127.0.0.1', port: ownPort }, { via: ['redis-i1', 'redis'], proxy: 'embedded', protocol: 'postgres', samples: 50 });
    expect(c).toMatchObject({ samples: 50, probe: 'SELECT 1', via: ['redis-i1', 'redis'], proxy: 'embedded' });
    for (const path of [c.directMs, c.proxiedMs]) {
      expect(path.p50).toBeGreaterThan(0);
      expect(path.p99).toBeGreaterThanOrEqual(path.p50);
    }
    expect(c.addedMs.p50).toBe(Math.max(0, c.proxiedMs.p50 - c.directMs.p50));
    for (let i = 0; i < 100 && proxyServer.proxies.get('redis-i1').connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(proxyServer.proxies.get('redis-i1').connectionCount).toBe(0);
  });

  it('the Redis protocol against Postgres fails, which is why the store picks the protocol', async () => {
    await expect(measureProxyCost({ host: '127.0.0.1', port: server.port }, { host: '127.0.0.1', port: ownPort }, { via: [], proxy: 'embedded', samples: 5, timeoutMs: 3_000 })).rejects.toThrow();
  });

  it('gives up after its timeout, saying what it measured, when Postgres never answers', async () => {
    const held = new Set<net.Socket>();
    const mute = net.createServer((s) => {
      s.on('error', () => {});
      s.resume(); // reads and drops the start-up message, and so sees the client's close
      held.add(s);
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as net.AddressInfo).port;
    await expect(measureProxyCost({ host: '127.0.0.1', port: server.port }, { host: '127.0.0.1', port }, { via: ['x'], proxy: 'embedded', protocol: 'postgres', samples: 10, timeoutMs: 500 })).rejects.toThrow(
      /fault proxy's cost \(10 SELECT 1 round trips each way\) took over 500 ms/,
    );
    // The measurement closed the connection it had opened, though it never got past the start-up message.
    for (let i = 0; i < 100 && [...held].some((s) => !s.destroyed); i++) await new Promise((r) => setTimeout(r, 20));
    expect(held.size).toBe(1);
    expect([...held].every((s) => s.destroyed)).toBe(true);
    await new Promise((r) => mute.close(r));
  });
});
