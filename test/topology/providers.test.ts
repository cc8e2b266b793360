import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startTopology } from '../../src/topology/index.ts';
import { dockerUnavailableReason } from '../../src/topology/docker.ts';
import { startToxiproxyServer } from '../../chaos/server.ts';
import { append } from './helpers.ts';

const noDocker = await dockerUnavailableReason();
if (noDocker) console.log(`skipping the docker provider test: ${noDocker}`);

describe('provider external', () => {
  it('offers only the faults it has access to', async () => {
    const backend = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    await using toxi = await startToxiproxyServer();
    await new Toxiproxy(toxi.url).createProxy({ name: 'their-redis', listen: '127.0.0.1:0', upstream: '127.0.0.1:6379' });
    try {
      const bare = await startTopology({ provider: 'external', external: { routerUrl: url + '/' } });
      expect(bare.routerUrl).toBe(url);
      expect(bare.faultTargets()).toEqual({ processes: {} });
      expect(bare.tenants['tenant-a']).toBe('tenant-a-token');

      const full = await startTopology({ provider: 'external', external: { routerUrl: url, toxiproxyUrl: toxi.url, redisUrl: 'redis://127.0.0.1:6379', instances: [{ id: 'a', url }] } });
      expect(full.faultTargets()).toEqual({ toxiproxyUrl: toxi.url, proxies: ['their-redis'], redis: { url: 'redis://127.0.0.1:6379' }, processes: {} });
      expect(full.instances.map((i) => i.id)).toEqual(['a']);
      await full.stop();
      await expect(startTopology({ provider: 'external', external: { routerUrl: 'not a url' } })).rejects.toThrow(/not a URL/);
      await expect(startTopology({ provider: 'external' })).rejects.toThrow(/needs external.routerUrl/);
    } finally {
      await new Promise((r) => backend.close(r));
    }
  });
});

describe('provider docker', () => {
  it.skipIf(noDocker !== undefined)('starts Redis and Toxiproxy containers with local instances behind the router', async () => {
    await using topo = await startTopology({ provider: 'docker', instances: 2 });
    const token = topo.tenants['tenant-a']!;
    expect((await append(topo.routerUrl, token, 'docker-1')).status).toBeLessThan(300);
    const proxy = await new Toxiproxy(topo.toxiproxy!.url).get('redis-i1');
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect((await append(topo.instances[0]!.url, token, 'docker-1')).status).toBe(503);
    expect((await append(topo.instances[1]!.url, token, 'docker-2')).status).toBeLessThan(300);
  }, 180_000);

  it.skipIf(noDocker === undefined)('refuses with an environment error naming the missing engine', async () => {
    await expect(startTopology({ provider: 'docker' })).rejects.toThrow(/needs a running Docker engine/);
  });
});
