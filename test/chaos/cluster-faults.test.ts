/**
 * Cluster faults on a real 6-node cluster (local topology, --store redis-cluster), each run through
 * the plan runner as a scenario would: verified by what the cluster says, undone at the end, and the
 * service writing to the affected shard again afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../chaos/runner.ts';
import { SHARD_FIRST_SLOT } from '../../chaos/cluster-faults.ts';
import { keySlot } from '../../src/topology/cluster-slot.ts';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import type { RedisCluster } from '../../src/topology/redis-cluster.ts';
import { sessionKey } from '../../reference-service/store/keys.ts';
import { append, read } from '../topology/helpers.ts';

let topo: Topology;
let cluster: RedisCluster;
let token: string;
beforeAll(async () => {
  topo = await startTopology({ store: 'redis-cluster', instances: 1, serviceArgs: ['--model-latency-ms', '0', '--store-timeout-ms', '1000'] });
  cluster = topo.faultTargets().cluster as RedisCluster;
  token = topo.tenants['tenant-a']!;
});
afterAll(async () => {
  await topo?.stop();
});

/** A session id whose keys fall in `shard`'s starting slot range. */
function sessionOnShard(shard: number, tag: string): string {
  const lo = SHARD_FIRST_SLOT[shard]!;
  const hi = shard === 3 ? 16_383 : SHARD_FIRST_SLOT[shard + 1]! - 1;
  for (let i = 0; i < 10_000; i++) {
    const s = `${tag}-${i}`;
    const slot = keySlot(sessionKey('tenant-a', s));
    if (slot >= lo && slot <= hi) return s;
  }
  throw new Error('no session id found');
}

const owner = async (slot: number) => (await cluster.roles()).find((r) => r.role === 'master' && !r.failed && r.slots.some(([a, b]) => slot >= a && slot <= b))?.name;

describe('cluster faults', () => {
  it('cluster_failover kill: the primary dies, the cluster promotes its replica, the service writes there; undo brings the old primary back as a replica', async () => {
    const s = sessionOnShard(1, 'kill');
    expect((await append(topo.routerUrl, token, s)).status).toBe(200);
    const before = await owner(0);
    const [entry] = await runPlan({ faults: [{ id: 'kill', at: 0, duration: 300, target: 'store', fault: { type: 'cluster_failover', shard: 1, mode: 'kill' } }] }, topo.faultTargets()).done;
    expect(entry!.error).toBeUndefined();
    expect(entry!.verified, entry!.detail).toBe(true);
    expect(entry!.detail).toMatch(/kill -9 of primary n\d .* promoted \d+ ms later/);
    expect(entry!.undoError).toBeUndefined();
    const after = await owner(0);
    expect(after).not.toBe(before);
    const roles = await cluster.roles();
    expect(roles.find((r) => r.name === before)).toMatchObject({ role: 'slave', failed: false });
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await append(topo.routerUrl, token, s)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await read(topo.routerUrl, token, s)).body).toMatchObject({ turnCount: 2 });
  });

  it('cluster_failover manual: CLUSTER FAILOVER swaps primary and replica; undo swaps them back', async () => {
    const before = await owner(SHARD_FIRST_SLOT[2]!);
    const run = runPlan({ faults: [{ id: 'manual', at: 0, duration: 300, target: 'store', fault: { type: 'cluster_failover', shard: 2, mode: 'manual' } }] }, topo.faultTargets());
    const [entry] = await run.done;
    expect(entry!.verified, entry!.detail).toBe(true);
    expect(entry!.detail).toMatch(/CLUSTER FAILOVER on n\d of shard 2/);
    expect(entry!.undoError).toBeUndefined();
    expect(await owner(SHARD_FIRST_SLOT[2]!)).toBe(before);
    const s = sessionOnShard(2, 'manual');
    expect((await append(topo.routerUrl, token, s)).status).toBe(200);
  });

  it('reshard: slots move from shard 1 to shard 2 and back, and sessions in them stay readable', async () => {
    const sessions = Array.from({ length: 20 }, (_, i) => sessionOnShard(1, `rs${i}`));
    for (const s of sessions) expect((await append(topo.routerUrl, token, s)).status).toBe(200);
    const countOf = async (slot: number) => (await cluster.roles()).find((r) => r.role === 'master' && r.slots.some(([a, b]) => slot >= a && slot <= b))!.slots.reduce((n, [a, b]) => n + b - a + 1, 0);
    const shard1 = await countOf(0);
    const run = runPlan({ faults: [{ id: 'rs', at: 0, duration: 1_000, target: 'store', fault: { type: 'reshard', slots: 500, from: 1, to: 2 } }] }, topo.faultTargets());
    // While slots move and while they are elsewhere, every session answers (ASK, then MOVED, followed).
    let finished = false;
    void run.done.then(() => (finished = true));
    const answers: number[] = [];
    for (let round = 0; round < 200 && !finished; round++) {
      for (const s of sessions) answers.push((await read(topo.routerUrl, token, s)).status);
    }
    const [entry] = await run.done;
    expect(answers.length).toBeGreaterThan(sessions.length);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
    expect(entry!.verified, entry!.detail).toBe(true);
    expect(entry!.detail).toMatch(/moved slots \d+-\d+ \(500 of 500\) from n\d \(shard 1, \d+ → \d+\) to n\d \(shard 2/);
    expect(entry!.undoError).toBeUndefined();
    expect(await countOf(0)).toBe(shard1);
    for (const s of sessions) expect((await read(topo.routerUrl, token, s)).body).toMatchObject({ turnCount: 1 });
  });

  it('a primary cut off through its link: the service cannot reach its shard, the cluster still sees it alive, and it answers again after', async () => {
    const primary = await owner(SHARD_FIRST_SLOT[3]!);
    const s3 = sessionOnShard(3, 'cut');
    const s1 = sessionOnShard(1, 'cut');
    const run = runPlan({ faults: [{ id: 'cut', at: 0, duration: 2_500, target: `cluster-${primary}`, fault: { type: 'down' } }] }, topo.faultTargets());
    await new Promise((r) => setTimeout(r, 1_200));
    const cut = await append(topo.routerUrl, token, s3);
    const other = await append(topo.routerUrl, token, s1);
    // Past cluster-node-timeout: were the bus cut too, the replica would have been promoted by now.
    const roles = await cluster.roles();
    const [entry] = await run.done;
    expect(entry!.verified).toBe(true);
    expect(cut.status).toBe(503);
    expect(other.status).toBe(200);
    expect(roles.find((r) => r.name === primary)).toMatchObject({ role: 'master', failed: false });
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await append(topo.routerUrl, token, s3)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });

  it('refuses a store fault a cluster cannot have, before anything starts', () => {
    expect(() => runPlan({ faults: [{ at: 0, duration: 100, target: 'store', fault: { type: 'pause_writes' } }] }, topo.faultTargets())).toThrow(/the store is redis-cluster, which cannot have a pause_writes fault; its store faults are: cluster_failover, reshard/);
  });
});
