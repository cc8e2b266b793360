/**
 * The local topology's store, whichever it is: Redis or Valkey (primary, optional replica following
 * through the "replication" link) or PostgreSQL (one server). Each sits behind the fault proxy the
 * same way; this module only says how to start it, how a service instance reaches it through its
 * link, what a chaos plan may act on, and what to tell the report about it.
 *
 *   redis / valkey   redis-server | valkey-server  ◄── [redis] ◄── [redis-iN] ◄── instance (redis://)
 *   postgres         postgres (postmaster)          ◄── [redis] ◄── [redis-iN] ◄── instance (postgres://)
 *   redis-cluster    6 × redis-server (3 primaries, 3 replicas), each ◄── [cluster-nK] ◄── every instance
 *   valkey-cluster   the same with valkey-server        (redis-cluster:// + an announced→link address map)
 *
 * The link names stay "redis" and "redis-<id>" on every store, and the store-fault target stays
 * "redis-server" (or "store"), so one plan runs unchanged on all three.
 */
import type { PlanTargets } from '../../chaos/runner.ts';
import type { StoreKind } from '../../chaos/store-kinds.ts';
import { UsageError } from '../base/errors.ts';
import type { StoreInfo } from './types.ts';
import { redisServerVersion } from './store-version.ts';
import { parseStoreKind } from './store-kind.ts';
import type { Clock } from '../base/clock.ts';
import type { RunRegistry } from './cleanup.ts';
import type { FaultableProcess } from './faultable.ts';
import { FAST_START_SETTINGS, startPostgresServer } from './postgres-server.ts';
import { startRedisStack } from './redis-stack.ts';
import { startRedisCluster, type RedisCluster } from './redis-cluster.ts';
import type { Topology } from './types.ts';

export { STORE_KINDS, parseStoreKind, type StoreKind } from './store-kind.ts';

type Endpoint = { host: string; port: number };

export type { StoreInfo } from './types.ts';

export interface StartedStore {
  readonly kind: StoreKind;
  /** Where the front-door link points. */
  readonly primary: Endpoint;
  /** Where the replica-reads link points, when there is a replica. */
  readonly replica?: Endpoint;
  /** The URL a service instance is given, for the endpoint of its own link. */
  serviceUrl(at: Endpoint): string;
  readonly processes: Record<string, FaultableProcess>;
  /** Direct (unproxied) access for seeding and snapshots: topology.redis (a postgres:// URL on Postgres). */
  readonly direct: NonNullable<Topology['redis']>;
  readonly planTargets: Pick<PlanTargets, 'storeKind' | 'redis' | 'replica' | 'postgres' | 'cluster'>;
  readonly info: StoreInfo;
  /** A cluster: its nodes, each to be put behind its own link (redis-cluster.ts). */
  readonly cluster?: RedisCluster;
  stop(): Promise<void>;
}

export interface StoreOptions {
  kind: StoreKind;
  aof?: boolean;
  replica?: boolean;
  redisConfig?: Record<string, string>;
  /** Postgres: fsync and full_page_writes off. Default true. */
  postgresFastStart?: boolean;
  registry: RunRegistry;
  clock?: Clock;
  replicationLink: (primary: Endpoint) => Promise<Endpoint>;
}

export async function startStore(opts: StoreOptions): Promise<StartedStore> {
  const kind = parseStoreKind(opts.kind, 'store');
  if (kind === 'postgres') return startPostgresStore(opts);
  if (kind === 'redis-cluster' || kind === 'valkey-cluster') return startClusterStore(kind, opts);
  const stack = await startRedisStack({
    flavor: kind,
    aof: opts.aof,
    replica: opts.replica,
    config: opts.redisConfig,
    tracker: opts.registry,
    clock: opts.clock,
    replicationLink: opts.replicationLink,
  });
  const redis = { url: stack.primary.url, server: stack.primary, replica: stack.replica ? { url: stack.replica.url, server: stack.replica } : undefined };
  const version = (await redisServerVersion(stack.primary.url)) ?? undefined;
  return {
    kind,
    primary: { host: stack.primary.host, port: stack.primary.port },
    replica: stack.replica ? { host: stack.replica.host, port: stack.replica.port } : undefined,
    serviceUrl: (at) => `redis://${at.host}:${at.port}`,
    processes: { ...stack.processes },
    direct: redis,
    planTargets: {
      storeKind: kind,
      redis: { url: redis.url, server: redis.server },
      ...(redis.replica ? { replica: { url: redis.replica.url, server: redis.replica.server } } : {}),
    },
    info: { kind, version, settings: { appendonly: opts.aof ? 'yes' : 'no' }, notes: [opts.aof ? 'AOF on (appendfsync always)' : 'no AOF, no snapshots: a restart loses everything'] },
    stop: () => stack.stop(),
  };
}

/** The direct (unproxied) address of every node, for seeding, snapshots and faults. */
export function clusterDirectUrl(cluster: RedisCluster): string {
  return `redis-cluster://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

async function startClusterStore(kind: 'redis-cluster' | 'valkey-cluster', opts: StoreOptions): Promise<StartedStore> {
  if (opts.replica) throw new UsageError(`--store ${kind} has a replica per primary already; drop the topology's replica option (the failover fault is 'cluster_failover' there).`);
  if (opts.aof) throw new UsageError(`--store ${kind} runs without AOF (acknowledged writes survive a primary's loss only through its replica); drop --aof.`);
  const flavor = kind === 'redis-cluster' ? 'redis' : 'valkey';
  const cluster = await startRedisCluster({ flavor, config: opts.redisConfig, tracker: opts.registry, clock: opts.clock });
  const first = cluster.nodes[0]!;
  const version = (await redisServerVersion(first.url)) ?? undefined;
  const url = clusterDirectUrl(cluster);
  return {
    kind,
    primary: { host: first.host, port: first.port },
    serviceUrl: () => {
      throw new Error('a cluster is reached through one link per node; local.ts builds its URL');
    },
    processes: { ...cluster.processes },
    direct: { url },
    planTargets: { storeKind: kind, cluster },
    info: {
      kind,
      version,
      settings: { nodes: '3 primaries + 3 replicas', 'cluster-node-timeout': `${cluster.nodeTimeoutMs} ms`, 'cluster-require-full-coverage': 'no', appendonly: 'no' },
      notes: [
        `3 primaries, 1 replica each (${flavor}-cli --cluster create); cluster-node-timeout ${cluster.nodeTimeoutMs} ms, so a dead primary's replica takes over in about that`,
        'no AOF: a primary killed before its replica received a write loses it (asynchronous replication)',
      ],
    },
    cluster,
    stop: () => cluster.stop(),
  };
}

async function startPostgresStore(opts: StoreOptions): Promise<StartedStore> {
  if (opts.replica) throw new UsageError('--store postgres runs one PostgreSQL server; a replica (and the failover fault) is Redis and Valkey only. Drop the replica or use --store redis.');
  if (opts.aof) throw new UsageError('AOF is a Redis setting; PostgreSQL keeps its WAL on every store restart. Drop --aof with --store postgres.');
  const fast = opts.postgresFastStart ?? true;
  const server = await startPostgresServer({ fastStart: fast, tracker: opts.registry });
  const processes: Record<string, FaultableProcess> = {
    postgres: {
      name: 'postgres',
      get pid() {
        return server.pid;
      },
      kill9: () => server.kill9(),
      pause: async () => void (await server.pause()),
      resume: () => server.resume(),
      restart: () => server.restart(),
    },
  };
  const fastNote = Object.entries(FAST_START_SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ');
  return {
    kind: 'postgres',
    primary: { host: server.host, port: server.port },
    serviceUrl: (at) => `postgres://postgres@${at.host}:${at.port}/postgres`,
    processes,
    direct: { url: server.url },
    planTargets: { storeKind: 'postgres', postgres: { url: server.url, server } },
    info: {
      kind: 'postgres',
      version: server.version,
      settings: server.settings,
      notes: fast ? [`fast start: ${fastNote}; data survives a crash of the server, not of the machine`] : ['fsync and full_page_writes on'],
    },
    stop: () => server.stop(),
  };
}
