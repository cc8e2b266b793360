/**
 * The store snapshot on a Redis (or Valkey) cluster: every primary scanned as one Redis is
 * (store-snapshot.ts), the sessions merged, and what each primary holds kept for the capacity
 * section's per-shard figures. The URL is redis-cluster://host:port,… with the nodes' direct
 * addresses (never through their links, so a cut link does not blind the witness).
 */
import { Cluster, Redis } from 'ioredis';
import type { StoreSnapshot } from '../check/types.ts';
import { clusterSeeds } from '../../reference-service/config.ts';
import type { KeyMemorySample, ShardSample, SnapshotExtras } from './store-snapshot-types.ts';

interface Primary {
  address: string;
  slots: number;
}

function node(address: string): Redis {
  const r = new Redis(`redis://${address}`, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3_000, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => {});
  return r;
}

/** The primaries serving slots now, from the first node that answers CLUSTER NODES. */
export async function clusterPrimaries(url: string): Promise<Primary[]> {
  let last: unknown;
  for (const seed of clusterSeeds(url)) {
    const r = node(`${seed.host}:${seed.port}`);
    try {
      await r.connect();
      const text = (await r.call('CLUSTER', 'NODES')) as string;
      return text
        .trim()
        .split('\n')
        .map((l) => l.trim().split(' '))
        .filter((f) => f[2]!.split(',').includes('master') && !/fail/.test(f[2]!))
        .map((f) => ({
          address: f[1]!.split('@')[0]!,
          slots: f
            .slice(8)
            .filter((s) => !s.startsWith('['))
            .reduce((n, s) => {
              const [a, b] = s.split('-');
              return n + Number(b ?? a) - Number(a) + 1;
            }, 0),
        }))
        .filter((p) => p.slots > 0);
    } catch (e) {
      last = e;
    } finally {
      r.disconnect();
    }
  }
  throw new Error(`no cluster node answered CLUSTER NODES: ${(last as Error)?.message}`);
}

async function usedMemory(address: string): Promise<number | null> {
  const r = node(address);
  try {
    await r.connect();
    const m = /used_memory:(\d+)/.exec(await r.info('memory'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

function mergeKeyMemory(parts: Array<KeyMemorySample[] | null>): KeyMemorySample[] | null {
  if (parts.some((p) => p === null)) return null;
  const acc = new Map<KeyMemorySample['kind'], KeyMemorySample>();
  for (const part of parts) {
    for (const k of part!) {
      const a = acc.get(k.kind) ?? { kind: k.kind, keys: 0, sampledKeys: 0, bytes: 0 };
      acc.set(k.kind, { kind: k.kind, keys: a.keys + k.keys, sampledKeys: a.sampledKeys + k.sampledKeys, bytes: a.bytes + k.bytes });
    }
  }
  return (['state', 'turn-id index', 'other'] as const).filter((k) => acc.has(k)).map((k) => acc.get(k)!);
}

type NodeSnapshot = (redisUrl: string) => Promise<{ sessions: StoreSnapshot[]; extras: SnapshotExtras }>;

/** Each primary snapshotted as one Redis (`snapshotNode`, handed in by store-snapshot.ts, which loads this module lazily). */
export async function snapshotCluster(url: string, snapshotNode: NodeSnapshot): Promise<{ sessions: StoreSnapshot[]; extras: SnapshotExtras }> {
  const primaries = await clusterPrimaries(url);
  const parts = await Promise.all(primaries.map(async (p) => ({ p, snap: await snapshotNode(`redis://${p.address}`), used: await usedMemory(p.address) })));
  const sessions = parts.flatMap((x) => x.snap.sessions).sort((a, b) => (a.tenant + a.session < b.tenant + b.session ? -1 : 1));
  const extras: SnapshotExtras = {
    pinned: new Map(parts.flatMap((x) => [...x.snap.extras.pinned])),
    windowText: new Map(parts.flatMap((x) => [...x.snap.extras.windowText])),
    corrupt: parts.flatMap((x) => x.snap.extras.corrupt),
    keyMemory: mergeKeyMemory(parts.map((x) => x.snap.extras.keyMemory)),
    shards: parts.map((x): ShardSample => ({ node: x.p.address, slots: x.p.slots, sessions: x.snap.sessions.length, usedMemoryBytes: x.used })).sort((a, b) => (a.node < b.node ? -1 : 1)),
  };
  return { sessions, extras };
}

export async function clusterUsedBytes(url: string): Promise<number | null> {
  try {
    const used = await Promise.all((await clusterPrimaries(url)).map((p) => usedMemory(p.address)));
    return used.some((u) => u === null) ? null : used.reduce((a, b) => a! + b!, 0);
  } catch {
    return null;
  }
}

/** A connected cluster client on the direct addresses, for seeding. */
export async function clusterClient(url: string): Promise<Cluster> {
  const c = new Cluster(clusterSeeds(url), { redisOptions: { connectTimeout: 3_000 }, enableOfflineQueue: true });
  c.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('end', () => reject(new Error(`could not reach the cluster at ${url}`)));
  });
  return c;
}
