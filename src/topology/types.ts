/**
 * What `startTopology(opts)` takes and returns: the public shape of topology, shared by providers.
 */
import type { PlanTargets } from '../../chaos/runner.ts';
import type { Clock } from '../base/clock.ts';
import type { FaultableProcess } from './faultable.ts';
import type { ProxyCost } from './proxy-cost.ts';
import type { RedisServer } from './redis-server.ts';
import type { Router, RouterPolicy } from './router.ts';
import type { StoreKind } from './store-kind.ts';

export type TopologyProvider = 'local' | 'docker' | 'external';

/** One instance's settings; every field falls back to the topology-wide default. */
export interface InstanceSpec {
  /** Default i1, i2, … */
  id?: string;
  schemaVersion?: number;
  /** Safeguards switched off: subset of breaker,bounds,cas,migrations,observability. */
  unsafe?: string[];
  /** More service flags, e.g. ['--store-timeout-ms', '200']. */
  args?: string[];
}

export interface ExternalTarget {
  /** The backend's entry point (its load balancer or single instance); absent: the harness routes to `instances`. */
  routerUrl?: string;
  /** Per-instance URLs, when reachable (used for metrics scraping, never for faults). */
  instances?: Array<{ id: string; url: string }>;
  /** A Toxiproxy API whose proxies the backend's links go through; enables network faults. */
  toxiproxyUrl?: string;
  /** Proxy names on that Toxiproxy to offer as fault targets; default every proxy it lists. */
  proxies?: string[];
  /** Direct Redis URL; enables store faults and snapshots. */
  redisUrl?: string;
  /**
   * With no routerUrl and several instances, the harness's own router goes in front of them
   * with this policy, as in the embedded topology (the instances' own links are the user's).
   */
  router?: 'sticky' | 'round-robin' | 'random';
}

export interface TopologyOptions {
  /** Default 'local'. */
  provider?: TopologyProvider;
  /** Number of instances, or one spec per instance. Default TOPOLOGY_DEFAULTS.instances. */
  instances?: number | InstanceSpec[];
  /** Default TOPOLOGY_DEFAULTS.router. */
  router?: RouterPolicy;
  /** Seed of the random router policy. Default 1. */
  routerSeed?: number;
  /** The store (local provider): redis (default), valkey, postgres, redis-cluster or valkey-cluster. */
  store?: StoreKind;
  /** Postgres: fsync and full_page_writes off for a fast start (the ci profile). Default true. */
  postgresFastStart?: boolean;
  /** Start a Redis replica following the primary through the "replication" proxy. Default false. */
  replica?: boolean;
  /** Append-only file with fsync always, so acknowledged writes survive a Redis restart. Default false. */
  aof?: boolean;
  /** Extra redis-server config for the primary, e.g. { maxmemory: '20mb' }. */
  redisConfig?: Record<string, string>;
  /** Defaults for every instance. */
  schemaVersion?: number;
  unsafe?: string[];
  serviceArgs?: string[];
  /** Command that runs the service under test; default `node bin/stateproof-service.mjs`. */
  serviceCommand?: string[];
  /**
   * Run a contract adapter (backends/<name>/main.ts) as every instance instead of the reference
   * service (local provider). The per-instance settings of the reference service (schema version,
   * unsafe, serviceArgs) do not apply to it.
   */
  adapter?: AdapterLaunch;
  /** tenant → bearer token. Default two tenants: tenant-a/tenant-a-token, tenant-b/tenant-b-token. */
  tenants?: Record<string, string>;
  /** A real Toxiproxy's API URL; default $TOXIPROXY_URL, else the embedded server. */
  toxiproxyUrl?: string;
  /** Where audit logs, service logs and the tokens file go. Default a temp dir removed on stop. */
  runDir?: string;
  /** For provider 'external'. */
  external?: ExternalTarget;
  /** Wait this long for each process to be ready. */
  readyTimeoutMs?: number;
  clock?: Clock;
  /** Progress and cleanup notes; default writes to stderr. */
  log?: (message: string) => void;
}

/** How the local topology starts one adapter process (src/topology/adapter-instance.ts). */
export interface AdapterLaunch {
  /** The adapter's name: its ready line is `<name> listening on <url>`. */
  name: string;
  /** backends/<name>/main.ts, run as `node --import tsx <main> --store-url <its link> --port 0 …`. */
  main: string;
  /** --window-turns: the window the library is configured with, where it has one. */
  windowTurns?: number;
  /** Environment of the adapter processes; default the harness's own. */
  env?: NodeJS.ProcessEnv;
}

export interface TopologyInstance {
  readonly id: string;
  readonly url: string;
  readonly schemaVersion?: number;
  readonly unsafe: readonly string[];
  readonly auditLogPath?: string;
  readonly logPath?: string;
  /** Present when the harness started it and can fault it. */
  readonly process?: FaultableProcess;
  /** The proxy of this instance's own link to Redis, e.g. "redis-i1". */
  readonly redisLink?: string;
}

/** What chaos/runPlan takes (INTERFACES.md §2). */
export type FaultTargets = PlanTargets;

export interface Topology extends AsyncDisposable {
  readonly provider: TopologyProvider;
  readonly runId: string;
  /** Where audit logs, service logs and the tokens file are. */
  readonly dir: string;
  /** The entry point for load: the router (local/docker) or the external backend. */
  readonly routerUrl: string;
  readonly router?: Router;
  readonly routerPolicy?: RouterPolicy;
  readonly instances: readonly TopologyInstance[];
  /** What the store is (local provider): kind, version, settings that matter. */
  readonly store?: StoreInfo;
  /** Direct (unproxied) store, for seeding and snapshots; absent when not reachable. On Postgres its url is postgres:// and there is no server handle here (faultTargets has it). */
  readonly redis?: { readonly url: string; readonly server?: RedisServer; readonly replica?: { readonly url: string; readonly server?: RedisServer } };
  readonly toxiproxy?: { readonly url: string; readonly embedded: boolean; readonly proxies: readonly string[] };
  /** What the fault proxy adds to a store round trip, measured at start (local provider). */
  readonly proxyCost?: ProxyCost;
  /** tenant → bearer token. */
  readonly tenants: Readonly<Record<string, string>>;
  readonly auditLogPaths: readonly string[];
  /** Process-fault handles by name: i1…iN, redis-server, redis-replica (Redis, Valkey) or postgres. */
  readonly processes: Readonly<Record<string, FaultableProcess>>;
  /** Everything this topology lets a chaos plan act on. */
  faultTargets(): FaultTargets;
  /** Tears everything down; idempotent. */
  stop(): Promise<StoppedTopology>;
}

export interface StoppedTopology {
  readonly runId: string;
  /** The run dir, when it was kept (a runDir was given). */
  readonly keptDir?: string;
  readonly auditLogPaths: readonly string[];
}

/**
 * The one source of topology defaults: startTopology, `stateproof up` and `stateproof run` (where
 * the scenario does not say) all read these. One instance behind round-robin is what `run` always
 * started; a scenario that needs more instances or sticky routing declares it.
 */
/** What the report and `stateproof up` say about the store. */
export interface StoreInfo {
  readonly kind: StoreKind;
  /** e.g. "7.0.15", "valkey 8.0.1", "PostgreSQL 15.18". */
  readonly version?: string;
  /** Settings that differ from the store's defaults and matter to durability or speed. */
  readonly settings?: Readonly<Record<string, string>>;
  /** One line per such setting, for humans: "fsync=off, full_page_writes=off (fast start)". */
  readonly notes: readonly string[];
}

export const TOPOLOGY_DEFAULTS = {
  provider: 'local' as TopologyProvider,
  store: 'redis' as StoreKind,
  instances: 1,
  router: 'round-robin' as RouterPolicy,
  routerSeed: 1,
  tenants: { 'tenant-a': 'tenant-a-token', 'tenant-b': 'tenant-b-token' } as Record<string, string>,
  readyTimeoutMs: 20_000,
} as const;

/** Proxy names: the store's front door, each instance's own link, replication, replica reads. */
export const LINK_NAMES = {
  redis: 'redis',
  instance: (id: string) => `redis-${id}`,
  replication: 'replication',
  replicaReads: 'redis-replica',
  /** A cluster node's own link, shared by every instance: "cluster-n1" … "cluster-n6". */
  clusterNode: (node: string) => `cluster-${node}`,
} as const;
