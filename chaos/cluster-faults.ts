/**
 * Faults only a Redis Cluster (or Valkey cluster) can have, made for real on its nodes:
 *
 *   cluster_failover kill    kill -9 of a shard's primary; the cluster promotes its replica on its own
 *                            (cluster-node-timeout, then an election) — nothing here promotes it
 *   cluster_failover manual  CLUSTER FAILOVER on the replica: a coordinated switch, no write lost
 *   reshard                  a range of N slots moves from one shard's primary to another's under
 *                            traffic, slot by slot, by the steps redis-cli --cluster reshard takes
 *                            (SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT + MIGRATE, SETSLOT NODE), so
 *                            clients meet ASK while a slot moves and MOVED after; done here rather
 *                            than by redis-cli so the undo moves back exactly the slots that moved
 *
 * A shard is named by the slot range it started with: shard 1 owns slot 0, shard 2 slot 5461,
 * shard 3 slot 10923 (redis-cli's create), and a fault acts on whichever primary serves that slot now.
 * Each is verified by what the cluster itself says (CLUSTER NODES), and undone: a killed primary is
 * started again and rejoins as the new primary's replica (as after a real crash, the failover is not
 * reversed); a manual failover is switched back; resharded slots move back.
 *
 * A primary cut off from the service while the cluster bus still works is a network fault: `down` on
 * its link "cluster-nK" (the bus and replication never go through the links).
 */
import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../src/base/clock.ts';
import type { AppliedFault } from './process.ts';

export const CLUSTER_FAULT_DEFAULTS = {
  /** Bound on a promotion after a kill: several node timeouts plus an election. */
  promotionTimeoutMs: 15_000,
  /** Bound on a restarted node rejoining as a replica and syncing. */
  rejoinTimeoutMs: 10_000,
  /** Slots a reshard moves when the fault does not say. */
  slots: 500,
} as const;

/** The first slot of each shard as redis-cli --cluster create assigns 3 primaries. */
export const SHARD_FIRST_SLOT: Readonly<Record<number, number>> = { 1: 0, 2: 5461, 3: 10923 };

export interface ClusterRole {
  name: string;
  id: string;
  address: string;
  role: 'master' | 'slave';
  masterId?: string;
  failed: boolean;
  slots: Array<[number, number]>;
}

export interface FaultableClusterNode {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  kill9(): Promise<void>;
  restart(opts?: { hard?: boolean }): Promise<void>;
}

/** What cluster faults act on; topology's RedisCluster satisfies it. */
export interface FaultableCluster {
  readonly nodes: readonly FaultableClusterNode[];
  /** redis-cli or valkey-cli. */
  readonly cli: string;
  /** From any node that answers, or as the node named `node` sees it. */
  roles(node?: string): Promise<ClusterRole[]>;
}

const slotCount = (r: ClusterRole) => r.slots.reduce((n, [a, b]) => n + b - a + 1, 0);
const owns = (r: ClusterRole, slot: number) => r.role === 'master' && !r.failed && r.slots.some(([a, b]) => slot >= a && slot <= b);

function shardSlot(shard: number): number {
  const slot = SHARD_FIRST_SLOT[shard];
  if (slot === undefined) throw new Error(`no shard ${shard}: shards are 1, 2 and 3`);
  return slot;
}

async function until<T>(what: string, timeoutMs: number, clock: Clock, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = clock.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (clock.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await clock.sleep(100);
  }
}

async function command(url: string, ...args: string[]): Promise<unknown> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: 5_000, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(args[0]!, ...args.slice(1));
  } finally {
    r.disconnect();
  }
}

function nodeNamed(cluster: FaultableCluster, name: string): FaultableClusterNode {
  const n = cluster.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no cluster node ${name}`);
  return n;
}

/** The primary serving `slot` now and its replica. */
async function shardOf(cluster: FaultableCluster, slot: number): Promise<{ primary: ClusterRole; replica: ClusterRole }> {
  const roles = await cluster.roles();
  const primary = roles.find((r) => owns(r, slot));
  if (!primary) throw new Error(`no live primary serves slot ${slot}`);
  const replica = roles.find((r) => r.role === 'slave' && r.masterId === primary.id && !r.failed);
  if (!replica) throw new Error(`the primary ${primary.name} serving slot ${slot} has no live replica to promote`);
  return { primary, replica };
}

/** Waits until `name` follows a primary again with its link up. */
async function rejoined(cluster: FaultableCluster, name: string, clock: Clock, timeoutMs: number): Promise<void> {
  const node = nodeNamed(cluster, name);
  await until(`${name} rejoining as a replica`, timeoutMs, clock, async () => {
    const info = (await command(node.url, 'INFO', 'replication')) as string;
    return /role:slave/.test(info) && /master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info) ? true : undefined;
  });
}

export interface ClusterFailoverOptions {
  /** 1, 2 or 3. Default 1. */
  shard?: number;
  /** kill: kill -9 of the primary, the cluster promotes; manual: CLUSTER FAILOVER. Default kill. */
  mode?: 'kill' | 'manual';
  clock?: Clock;
  promotionTimeoutMs?: number;
}

export async function clusterFailover(cluster: FaultableCluster, opts: ClusterFailoverOptions = {}): Promise<AppliedFault> {
  const clock = opts.clock ?? systemClock;
  const slot = shardSlot(opts.shard ?? 1);
  const mode = opts.mode ?? 'kill';
  const { primary, replica } = await shardOf(cluster, slot);
  const oldPrimary = nodeNamed(cluster, primary.name);
  const newPrimary = nodeNamed(cluster, replica.name);
  const t0 = clock.now();
  if (mode === 'kill') await oldPrimary.kill9();
  else await command(newPrimary.url, 'CLUSTER', 'FAILOVER');
  const promoted = await until(`the promotion of ${replica.name}`, opts.promotionTimeoutMs ?? CLUSTER_FAULT_DEFAULTS.promotionTimeoutMs, clock, async () => {
    const info = (await command(newPrimary.url, 'INFO', 'replication')) as string;
    if (!/role:master/.test(info)) return undefined;
    const state = /cluster_state:(\w+)/.exec((await command(newPrimary.url, 'CLUSTER', 'INFO')) as string)?.[1];
    if (state !== 'ok') return undefined;
    // …and the rest of the cluster has heard (the bus carries the new epoch).
    return (await cluster.roles()).find((r) => owns(r, slot))?.name === replica.name ? clock.now() : undefined;
  });
  const after = await cluster.roles();
  const serving = after.find((r) => owns(r, slot));
  const detail =
    `${mode === 'kill' ? `kill -9 of primary ${primary.name} (pid ${oldPrimary.pid === -1 ? 'gone' : oldPrimary.pid})` : `CLUSTER FAILOVER on ${replica.name}`} of shard ${opts.shard ?? 1} ` +
    `(${slotCount(primary)} slots); ${replica.name} promoted ${promoted - t0} ms later; slot ${slot} served by ${serving?.name ?? 'nobody'}`;
  return {
    verified: serving?.name === replica.name,
    detail,
    // A restart and a resync, or a resync and a switch back: longer than one call may take.
    undoTimeoutMs: CLUSTER_FAULT_DEFAULTS.rejoinTimeoutMs + CLUSTER_FAULT_DEFAULTS.promotionTimeoutMs,
    undo: async () => {
      if (mode === 'kill') {
        // nodes.conf brings it back with its id; it learns it was failed over and follows the new primary.
        await oldPrimary.restart();
        await rejoined(cluster, primary.name, clock, CLUSTER_FAULT_DEFAULTS.rejoinTimeoutMs);
      } else {
        // A manual failover needs the replica in sync first: the old primary has just become one.
        await rejoined(cluster, primary.name, clock, CLUSTER_FAULT_DEFAULTS.rejoinTimeoutMs);
        // A manual failover the primary does not answer in time is abandoned by the replica: ask again.
        const deadline = clock.now() + CLUSTER_FAULT_DEFAULTS.promotionTimeoutMs;
        for (;;) {
          // Sent only while it is still a replica: a failover asked for earlier may have taken effect
          // after the last wait gave up, and a primary answers "send CLUSTER FAILOVER to a replica".
          const info = (await command(oldPrimary.url, 'INFO', 'replication')) as string;
          if (/role:slave/.test(info)) await command(oldPrimary.url, 'CLUSTER', 'FAILOVER');
          const back = await until(`${primary.name} taking its shard back`, 4_000, clock, async () => ((await cluster.roles()).find((r) => owns(r, slot))?.name === primary.name ? true : undefined)).catch((e: Error) => e);
          if (back === true) break;
          if (clock.now() > deadline) throw back;
        }
      }
    },
  };
}

const MOVE_CONCURRENCY = 16;

function connect(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: 10_000, retryStrategy: () => null });
  r.on('error', () => {});
  return r;
}

/**
 * Moves slots [first, last] from `from` to `to`, one slot at a time, as the cluster specification's
 * resharding steps say. Every other primary is told the new owner too, so no node answers with a
 * stale MOVED for long.
 */
async function moveSlots(cluster: FaultableCluster, roles: readonly ClusterRole[], from: ClusterRole, to: ClusterRole, first: number, last: number): Promise<void> {
  const src = connect(nodeNamed(cluster, from.name).url);
  const dst = connect(nodeNamed(cluster, to.name).url);
  const others = roles.filter((r) => r.role === 'master' && !r.failed && r.id !== from.id && r.id !== to.id).map((r) => connect(nodeNamed(cluster, r.name).url));
  const [dstHost, dstPort] = [to.address.slice(0, to.address.lastIndexOf(':')), to.address.slice(to.address.lastIndexOf(':') + 1)];
  const moveOne = async (slot: number) => {
      await dst.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
      await src.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
      for (let batch = 0; batch < 100_000; batch++) {
        const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[];
        if (keys.length === 0) break;
        await src.call('MIGRATE', dstHost, dstPort, '', '0', '5000', 'REPLACE', 'KEYS', ...keys);
      }
      await dst.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
      await src.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
      await Promise.all(others.map((o) => o.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)));
  };
  try {
    // Slots are independent: a few at once keep a reshard of hundreds of slots within seconds.
    for (let slot = first; slot <= last; slot += MOVE_CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(MOVE_CONCURRENCY, last - slot + 1) }, (_, i) => moveOne(slot + i)));
    }
  } finally {
    for (const c of [src, dst, ...others]) c.disconnect();
  }
}

export interface ReshardOptions {
  /** Slots to move. Default CLUSTER_FAULT_DEFAULTS.slots. */
  slots?: number;
  /** Source and destination shards. Default 1 → 2. */
  from?: number;
  to?: number;
}

export async function clusterReshard(cluster: FaultableCluster, opts: ReshardOptions = {}): Promise<AppliedFault> {
  const slots = opts.slots ?? CLUSTER_FAULT_DEFAULTS.slots;
  const fromShard = opts.from ?? 1;
  const toShard = opts.to ?? 2;
  if (fromShard === toShard) throw new Error(`a reshard moves slots between two shards; from and to are both ${fromShard}`);
  const before = await cluster.roles();
  const from = before.find((r) => owns(r, shardSlot(fromShard)));
  const to = before.find((r) => owns(r, shardSlot(toShard)));
  if (!from || !to) throw new Error(`shard ${from ? toShard : fromShard} has no live primary`);
  // The first `slots` slots of the source's first range: one contiguous range, named in the report.
  const [first, end] = from.slots[0]!;
  if (end - first + 1 <= slots) throw new Error(`shard ${fromShard}'s first slot range ${first}-${end} is too small to give away ${slots} slots`);
  const last = first + slots - 1;
  const t0 = Date.now();
  await moveSlots(cluster, before, from, to, first, last);
  const took = Date.now() - t0;
  // Verified by the two ends' own views: each changes with its own SETSLOT NODE. Other nodes hear
  // over the bus, and on a loaded machine may flag a busy node 'fail?' for a while; that is waited
  // for (bounded) so the store is settled, but is not what says whether the slots moved.
  const toTarget = slotCount(to) + slots;
  const fromTarget = slotCount(from) - slots;
  const ownView = async (r: ClusterRole) => (await cluster.roles(r.name)).find((x) => x.id === r.id)!;
  const [toNow, fromNow] = await Promise.all([ownView(to), ownView(from)]);
  await until('every node hearing of the moved slots', 10_000, systemClock, async () => {
    const r = await cluster.roles();
    return slotCount(r.find((x) => x.id === to.id)!) === toTarget && slotCount(r.find((x) => x.id === from.id)!) === fromTarget ? r : undefined;
  }).catch(() => undefined);
  const moved = slotCount(toNow) - slotCount(to);
  const holds = (r: ClusterRole, slot: number) => r.slots.some(([a, b]) => slot >= a && slot <= b);
  return {
    verified: moved === slots && slotCount(fromNow) === fromTarget && holds(toNow, first) && holds(toNow, last) && !holds(fromNow, first),
    detail: `moved slots ${first}-${last} (${moved} of ${slots}) from ${from.name} (shard ${fromShard}, ${slotCount(from)} → ${slotCount(fromNow)}) to ${to.name} (shard ${toShard}, ${slotCount(to)} → ${slotCount(toNow)}) in ${took} ms`,
    // Back to where they were, so the store the harness snapshots is laid out as it started.
    undo: async () => {
      await moveSlots(cluster, await cluster.roles(), to, from, first, last);
      await until('every node hearing of the slots moved back', 10_000, systemClock, async () => (slotCount((await cluster.roles()).find((x) => x.id === from.id)!) === slotCount(from) ? true : undefined));
    },
    // As long as the move took, and then some: the runner's default bound is for undos that are one call.
    undoTimeoutMs: Math.max(10_000, took * 3),
  };
}
