/**
 * The failover fault on real redis-servers: a primary with an async replica following it through a
 * "replication" proxy, clients reaching it through "redis-i1" → "redis" (the virtual IP). After the
 * fault the replica is master, every proxy that pointed at the dead primary points at it, and a
 * client through the unchanged client-side proxy reads what was replicated and writes again.
 */
import { Redis } from 'ioredis';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../chaos/runner.ts';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { startRedisStack, type RedisStack } from '../../src/topology/redis-stack.ts';
import { UsageError } from '../../src/base/errors.ts';
import { portOf, rawConnect } from './helpers.ts';

let server: ToxiproxyServer;
let stack: RedisStack;
let client: Toxiproxy;
let clientPort: number;

beforeAll(async () => {
  server = await startToxiproxyServer({ seed: 1 });
  client = new Toxiproxy(server.url);
  stack = await startRedisStack({
    replica: true,
    replicationLink: async (p) => {
      const proxy = await client.createProxy({ name: 'replication', listen: '127.0.0.1:0', upstream: `${p.host}:${p.port}` });
      return { host: '127.0.0.1', port: portOf(proxy.listen) };
    },
  });
  const front = await client.createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${stack.primary.port}` });
  const own = await client.createProxy({ name: 'redis-i1', listen: '127.0.0.1:0', upstream: front.listen });
  clientPort = portOf(own.listen);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
  await server?.close();
});

const targets = () => ({
  toxiproxyUrl: server.url,
  proxies: ['redis', 'redis-i1', 'replication'],
  redis: { url: stack.primary.url, server: stack.primary },
  replica: { url: stack.replica!.url, server: stack.replica },
});

describe('POST /proxies/{name} with a new upstream', () => {
  it('keeps the listen address, closes open connections, and sends new ones to the new upstream', async () => {
    const proxy = await client.createProxy({ name: 'moving', listen: '127.0.0.1:0', upstream: `127.0.0.1:${stack.primary.port}` });
    const open = await rawConnect(portOf(proxy.listen));
    const res = await fetch(`${server.url}/proxies/moving`, { method: 'POST', body: JSON.stringify({ upstream: `127.0.0.1:${stack.replica!.port}` }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { listen: string; upstream: string; enabled: boolean };
    expect(body).toMatchObject({ listen: proxy.listen, upstream: `127.0.0.1:${stack.replica!.port}`, enabled: true });
    await expect(Promise.race([open.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 2_000))])).resolves.toBe('closed');
    const r = new Redis(portOf(proxy.listen), '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    expect(((await r.call('ROLE')) as unknown[])[0]).toBe('slave');
    r.disconnect();
    await (await client.get('moving')).remove();
  });
});

describe('the failover fault', () => {
  it('refuses a plan without a replica, or naming unknown proxies', () => {
    const plan = { faults: [{ at: 0, duration: 100, target: 'redis-server', fault: { type: 'failover' } }] };
    const { replica: _none, ...noReplica } = targets();
    expect(() => runPlan(plan, noReplica)).toThrow(UsageError);
    expect(() => runPlan(plan, noReplica)).toThrow(/has none/);
    const bad = { faults: [{ at: 0, duration: 100, target: 'redis-server', fault: { type: 'failover', proxies: ['nope'] } }] };
    expect(() => runPlan(bad, targets())).toThrow(/unknown proxy "nope"/);
  });

  it('kills the primary, promotes the replica, re-points the proxies, and the old primary rejoins as a replica', async () => {
    const app = new Redis(clientPort, '127.0.0.1', { maxRetriesPerRequest: 3, retryStrategy: (n) => (n > 50 ? null : 50) });
    app.on('error', () => {});
    for (let i = 0; i < 50; i++) await app.set(`k${i}`, `v${i}`);
    // Make sure the replica holds them: this test is about the failover, not about the loss window.
    expect(await app.call('WAIT', '1', '2000')).toBe(1);
    // A write the replica cannot have yet: the replication link holds it for 1.5 s.
    const lag = await (await client.get('replication')).addToxic({ name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1_500, jitter: 0 } });
    await app.set('late', 'acknowledged just before the kill');
    const oldPid = stack.primary.pid;

    const run = runPlan({ faults: [{ id: 'fo', at: 0, duration: 400, target: 'redis-server', fault: { type: 'failover', detectionDelayMs: 50 } }] }, targets());
    const [entry] = await run.done;
    expect(entry!.error).toBeUndefined();
    expect(entry!.undoError).toBeUndefined();
    expect(entry!.verified).toBe(true);
    expect(entry!.detail).toMatch(/cut replication link replication/);
    expect(entry!.detail).toMatch(/re-pointed redis, replication →/);
    expect(entry!.detail).toMatch(/probe write ok through 1 proxy/);
    await lag.remove();

    const proxies = await client.getAll();
    expect(proxies['redis']!.upstream).toBe(`127.0.0.1:${stack.replica!.port}`);
    expect(proxies['redis-i1']!.upstream).not.toBe(`127.0.0.1:${stack.replica!.port}`); // still through the front door
    expect(proxies['replication']!.enabled).toBe(true); // the cut link is back, pointing at the new primary

    // The same client address now reaches the promoted replica, which has the data and takes writes.
    expect(((await app.call('ROLE')) as unknown[])[0]).toBe('master');
    expect(await app.get('k49')).toBe('v49');
    // The acknowledged write that was still in flight to the replica is gone: async replication's trade-off.
    expect(await app.get('late')).toBeNull();
    await app.set('after', 'failover');
    app.disconnect();

    // The undo: the old primary is back (new pid, same address) following the new one, in sync.
    expect(stack.primary.pid).not.toBe(oldPid);
    const old = new Redis(stack.primary.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await old.connect();
    expect(((await old.call('ROLE')) as unknown[])[0]).toBe('slave');
    expect(await old.get('k0')).toBe('v0');
    old.disconnect();
  }, 30_000);
});
