/**
 * The third witness: what the store itself holds after the run, read straight from Redis (not
 * through the service), in the reference service's key layout. Also used to seed v1 sessions for
 * the migration scenario and to read used_memory for capacity figures, and MEMORY USAGE by key
 * kind so capacity can say where used_memory goes. A postgres:// URL goes to store-snapshot-pg.ts,
 * which gives the same shapes from the Postgres layout.
 */
import { Redis } from 'ioredis';
import type { StoreSnapshot } from '../check/types.ts';
import { parseEnvelope } from '../../reference-service/schema/envelope.ts';
import { decodeAnyVersion } from '../../reference-service/schema/migrate.ts';
import { encodeV1Session } from '../../reference-service/schema/v1.ts';
import { keyKind, parseSessionKey, sessionKey } from '../../reference-service/store/keys.ts';

import type { KeyMemorySample, SnapshotExtras } from './store-snapshot-types.ts';
import { redisServerVersion } from '../topology/store-version.ts';

/** MEMORY USAGE per key costs a round trip (and O(n) for a sorted set): a few hundred per kind is plenty for a mean. */
export const KEY_MEMORY_SAMPLES_PER_KIND = 300;

export type { KeyMemorySample, ShardSample, SnapshotExtras } from './store-snapshot-types.ts';

/**
 * Every key counted by kind, the first KEY_MEMORY_SAMPLES_PER_KIND of each measured with
 * MEMORY USAGE … SAMPLES 0 (exact, also for sorted sets). SCAN order is the hash table's, so the
 * first keys seen are as good a sample as any.
 */
export async function sampleKeyMemory(redis: Redis, perKind = KEY_MEMORY_SAMPLES_PER_KIND): Promise<KeyMemorySample[] | null> {
  const acc = new Map<KeyMemorySample['kind'], { keys: number; sampled: number; bytes: number }>();
  let cursor = '0';
  try {
    for (let rounds = 0; rounds < 100_000; rounds++) {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      for (const key of keys) {
        const kind = keyKind(key);
        const a = acc.get(kind) ?? { keys: 0, sampled: 0, bytes: 0 };
        acc.set(kind, a);
        a.keys++;
        if (a.sampled >= perKind) continue;
        const used = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
        if (used === null) continue; // expired between SCAN and MEMORY USAGE
        a.sampled++;
        a.bytes += used;
      }
      cursor = next;
      if (cursor === '0') break;
    }
  } catch {
    return null;
  }
  const order: Array<KeyMemorySample['kind']> = ['state', 'turn-id index', 'other'];
  return order
    .filter((k) => acc.has(k))
    .map((kind) => {
      const a = acc.get(kind)!;
      return { kind, keys: a.keys, sampledKeys: a.sampled, bytes: a.sampled ? (a.bytes / a.sampled) * a.keys : 0 };
    });
}

const isPostgres = (url: string) => /^postgres(ql)?:\/\//.test(url);
const pgSnapshot = () => import('./store-snapshot-pg.ts');
const isCluster = (url: string) => url.startsWith('redis-cluster://');
const clusterSnapshot = () => import('./store-snapshot-cluster.ts');

function connect(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 3_000, enableOfflineQueue: false });
  // A lost connection reaches the caller as the command's rejection; unheard, the 'error' event
  // would also print ioredis' "Unhandled error event" stack on stderr.
  redis.on('error', () => {});
  return redis;
}

export async function snapshotStore(redisUrl: string): Promise<{ sessions: StoreSnapshot[]; extras: SnapshotExtras }> {
  if (isPostgres(redisUrl)) return (await pgSnapshot()).snapshotPostgres(redisUrl);
  if (isCluster(redisUrl)) return (await clusterSnapshot()).snapshotCluster(redisUrl, snapshotStore);
  const redis = connect(redisUrl);
  await redis.connect();
  const sessions: StoreSnapshot[] = [];
  const extras: SnapshotExtras = { pinned: new Map(), windowText: new Map(), corrupt: [], keyMemory: null };
  try {
    let cursor = '0';
    // Bounded: SCAN returns every key once within a full cycle; the cap only guards a runaway store.
    for (let rounds = 0; rounds < 100_000; rounds++) {
      // Both key layouts (keys.ts): a session an older service wrote and nobody touched since is still one.
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'sp:*:session*', 'COUNT', 500);
      for (const key of keys) {
        const m = parseSessionKey(key);
        if (!m) continue;
        const [raw, ttl] = await Promise.all([redis.get(key), redis.ttl(key)]);
        if (raw === null) continue; // expired between SCAN and GET
        const { tenant, session } = m;
        // Moved already (the old copy is going). On a cluster node the new key may live elsewhere (MOVED): keep the old one then.
        if (m.layout === 1 && (await redis.exists(sessionKey(tenant, session)).catch(() => 0)) === 1) continue;
        try {
          const env = parseEnvelope(raw);
          const state = decodeAnyVersion(env);
          sessions.push({
            tenant,
            session,
            schemaVersion: env.schemaVersion,
            revision: env.revision,
            turnCount: state.turnCount,
            turnIds: state.turns.map((t) => t.turnId),
            bytes: Buffer.byteLength(raw),
            ttlSeconds: ttl,
          });
          extras.pinned.set(`${tenant}/${session}`, state.pinned);
          extras.windowText.set(`${tenant}/${session}`, state.turns.map((t) => t.user));
        } catch {
          extras.corrupt.push(key);
        }
      }
      cursor = next;
      if (cursor === '0') break;
    }
    extras.keyMemory = await sampleKeyMemory(redis);
  } finally {
    redis.disconnect();
  }
  sessions.sort((a, b) => (a.tenant + a.session < b.tenant + b.session ? -1 : 1));
  return { sessions, extras };
}

export async function usedMemoryBytes(redisUrl: string): Promise<number | null> {
  if (isPostgres(redisUrl)) return (await pgSnapshot()).postgresUsedBytes(redisUrl);
  if (isCluster(redisUrl)) return (await clusterSnapshot()).clusterUsedBytes(redisUrl);
  const redis = connect(redisUrl);
  try {
    await redis.connect();
    const info = await redis.info('memory');
    const m = /used_memory:(\d+)/.exec(info);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

export async function redisVersion(redisUrl: string): Promise<string | null> {
  if (isPostgres(redisUrl)) return (await pgSnapshot()).postgresVersion(redisUrl);
  if (isCluster(redisUrl)) return redisServerVersion(`redis://${redisUrl.slice('redis-cluster://'.length).split(',')[0]}`);
  return redisServerVersion(redisUrl);
}

/** Writes `count` sessions in schema v1 straight into Redis, each with a few turns. */
export async function seedV1Sessions(redisUrl: string, opts: { tenant: string; prefix: string; count: number; turns?: number }): Promise<void> {
  if (isPostgres(redisUrl)) return (await pgSnapshot()).seedV1SessionsPostgres(redisUrl, opts);
  const cluster = isCluster(redisUrl) ? await (await clusterSnapshot()).clusterClient(redisUrl) : undefined;
  const redis = cluster ?? connect(redisUrl);
  if (!cluster) await (redis as Redis).connect();
  try {
    // A cluster pipeline splits by node itself; every key here names its own slot.
    const pipeline = redis.pipeline();
    for (let s = 0; s < opts.count; s++) {
      const id = `${opts.prefix}${s}`;
      const turns = Array.from({ length: opts.turns ?? 3 }, (_, t) => ({ turnId: `${id}-seed-${t}`, user: `seeded question ${t}`, assistant: `seeded answer ${t}` }));
      pipeline.set(sessionKey(opts.tenant, id), encodeV1Session({ turns }));
    }
    await pipeline.exec();
  } finally {
    redis.disconnect();
  }
}
