// Integration: a real local topology (redis-server + replica, embedded fault proxy, three
// reference-service instances, sticky router): routing, failover, one instance cut off, replica lag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import { runPlan } from '../../chaos/runner.ts';
import { append, eventually, read } from './helpers.ts';

describe('local topology: sticky routing, per-instance links, replication lag', () => {
  let topo: Topology;
  let token: string;
  beforeAll(async () => {
    topo = await startTopology({ instances: 3, replica: true, router: 'sticky', serviceArgs: ['--model-latency-ms', '0'] });
    token = topo.tenants['tenant-a']!;
  }, 90_000);
  afterAll(async () => {
    await topo?.stop();
  });

  it('offers every link, process and audit log by name', () => {
    expect([...topo.toxiproxy!.proxies].sort()).toEqual(['redis', 'redis-i1', 'redis-i2', 'redis-i3', 'redis-replica', 'replication'].sort());
    expect(Object.keys(topo.processes).sort()).toEqual(['i1', 'i2', 'i3', 'redis-replica', 'redis-server']);
    expect(topo.auditLogPaths).toHaveLength(3);
    expect(topo.faultTargets()).toMatchObject({ toxiproxyUrl: topo.toxiproxy!.url, redis: { url: topo.redis!.url } });
    expect(topo.tenants).toEqual({ 'tenant-a': 'tenant-a-token', 'tenant-b': 'tenant-b-token' });
  });

  it("measured at start what the fault proxy adds to a store round trip on an instance's path", () => {
    const c = topo.proxyCost!;
    expect(c).toMatchObject({ samples: 200, via: ['redis-i1', 'redis'], proxy: 'embedded' });
    expect(c.directMs.p50).toBeGreaterThan(0);
    expect(c.proxiedMs.p99).toBeGreaterThanOrEqual(c.proxiedMs.p50);
    expect(c.addedMs.p50).toBeGreaterThanOrEqual(0);
    expect(c.addedMs.p99).toBeGreaterThanOrEqual(0);
  });

  it('sticky sends one session to one instance, and fails over with its state when that instance dies', async () => {
    const first = await append(topo.routerUrl, token, 'sticky-1');
    expect(first.status).toBeLessThan(300);
    const owner = first.instance!;
    expect(owner).toMatch(/^i[123]$/);
    for (let k = 0; k < 4; k++) expect((await append(topo.routerUrl, token, 'sticky-1')).instance).toBe(owner);

    const victim = topo.processes[owner]!;
    await victim.kill9();
    const after = await append(topo.routerUrl, token, 'sticky-1');
    expect(after.status).toBeLessThan(300);
    expect(after.instance).not.toBe(owner);
    expect(after.body).toMatchObject({ revision: 6, turnCount: 6, applied: true });
    const view = await read(topo.routerUrl, token, 'sticky-1');
    expect(view.body).toMatchObject({ revision: 6, turnCount: 6 });

    // Back up: the router's health check returns the session to its own instance.
    await victim.restart();
    expect(await eventually(async () => (await read(topo.routerUrl, token, 'sticky-1')).instance === owner, 15_000, 100)).toBe(true);
  });

  it("cuts one instance's own link to Redis while the others keep working", async () => {
    const [i1, i2] = [topo.instances[0]!, topo.instances[1]!];
    expect((await append(i1.url, token, 'cut-1')).status).toBeLessThan(300);
    const proxy = await new Toxiproxy(topo.toxiproxy!.url).get(i1.redisLink!);
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    try {
      const cut = await append(i1.url, token, 'cut-1');
      expect(cut.status).toBe(503);
      const degraded = await read(i1.url, token, 'cut-1');
      expect(degraded.mode).toBe('degraded');
      for (let k = 0; k < 3; k++) {
        const other = await append(i2.url, token, `cut-other-${k}`);
        expect(other.status).toBeLessThan(300);
        expect(other.mode).toBe('normal');
      }
    } finally {
      await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    }
    expect(await eventually(async () => (await append(i1.url, token, 'cut-1')).status < 300, 20_000, 200)).toBe(true);
  });

  it('replication lag injected on the "replication" link makes an eventual read stale for longer than the delay', async () => {
    const [writer, reader] = [topo.instances[0]!, topo.instances[1]!];
    const session = 'lag-1';
    expect((await append(writer.url, token, session)).status).toBeLessThan(300);
    // The replica has revision 1 before the fault.
    expect(await eventually(async () => {
      const r = await read(reader.url, token, session, 'eventual');
      return r.body.source === 'replica' && r.body.revision === 1;
    })).toBe(true);

    const delayMs = 800;
    const proxy = await new Toxiproxy(topo.toxiproxy!.url).get('replication');
    await proxy.addToxic({ name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: delayMs, jitter: 0 } });
    try {
      const ack = await append(writer.url, token, session);
      const ackedAt = Date.now();
      expect(ack.body).toMatchObject({ revision: 2 });
      const firstRead = await read(reader.url, token, session, 'eventual');
      expect(firstRead.body).toMatchObject({ source: 'replica', revision: 1 });
      let freshAt = 0;
      await eventually(async () => {
        const r = await read(reader.url, token, session, 'eventual');
        if (r.body.revision === 2) freshAt = Date.now();
        return freshAt > 0;
      }, 15_000, 20);
      const stalenessMs = freshAt - ackedAt;
      console.log(`replica staleness measured: ${stalenessMs} ms after the ack (injected replication delay ${delayMs} ms)`);
      expect(freshAt).toBeGreaterThan(0);
      expect(stalenessMs).toBeGreaterThan(delayMs * 0.9);
      // Strong reads never see the lag.
      expect((await read(reader.url, token, session, 'strong')).body).toMatchObject({ revision: 2 });
    } finally {
      await (await proxy.getToxic('lag')).remove();
    }
  });

  it("hands chaos plans its targets: a kill -9 and a cut link are applied, verified and undone", async () => {
    const plan = {
      faults: [
        { id: 'kill-i3', at: 0, duration: 400, target: 'i3', fault: { type: 'kill9' } },
        { id: 'cut-i2', at: 0, duration: 400, target: 'redis-i2', fault: { type: 'down' } },
      ],
    };
    const timeline = await runPlan(plan, topo.faultTargets()).done;
    expect(timeline.map((e) => [e.id, e.verified, e.error ?? null, e.undoError ?? null])).toEqual([
      ['kill-i3', true, null, null],
      ['cut-i2', true, null, null],
    ]);
    // Undone: i3 was restarted, and i2 reaches Redis again.
    expect((await append(topo.instances[2]!.url, token, 'after-plan')).status).toBeLessThan(300);
    expect(await eventually(async () => (await append(topo.instances[1]!.url, token, 'after-plan-2')).status < 300, 20_000, 200)).toBe(true);
  });
});
