/**
 * startService(): the reference service in-process — Redis clients, safeguards, metrics, audit log
 * and the HTTP server wired together. main.ts is the CLI around it.
 */
import type { AddressInfo } from 'node:net';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { clusterSeeds, resolveConfig, type ResolvedConfig, type ServiceConfig } from './config.ts';
import { createMetrics } from './observability/metrics.ts';
import { createAuditLog } from './observability/audit.ts';
import { createStoreGuard } from './safeguards/breaker.ts';
import { LocalCache } from './safeguards/cache.ts';
import { SessionStore } from './store/session-store.ts';
import { PgSessionStore } from './store/pg-session-store.ts';
import type { StateStore } from './store/state-store.ts';
import { createModel } from './model.ts';
import { createHttpServer } from './http/server.ts';
import type { ServiceContext } from './handlers/context.ts';

export interface ServiceHandle extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly config: ResolvedConfig;
  close(): Promise<void>;
}

const redisOptions: RedisOptions = {
  // Commands issued in one tick go out in one write: the turn path's GET + ZSCORE and concurrent
  // requests share round trips.
  enableAutoPipelining: true,
  // A command waiting for a lost connection fails after two reconnect attempts instead of twenty,
  // so with the breaker off a stopped Redis surfaces as 500s within a second rather than hanging.
  maxRetriesPerRequest: 2,
  retryStrategy: (times) => Math.min(times * 100, 1_000),
  connectTimeout: 2_000,
};

/**
 * A Redis Cluster client. Slot-aware (the default): it follows MOVED (and refreshes its slot map)
 * and ASK, retries TRYAGAIN and CLUSTERDOWN, and after a lost connection to a primary re-reads the
 * map, so a promoted replica takes over. `slot-aware` off: the map is read once and any redirect or
 * lost primary is an error (maxRedirections 0), which is how a client sharding by a fixed map
 * behaves when slots move.
 */
function clusterClient(cfg: ResolvedConfig): Cluster {
  const nat = cfg.clusterNat ?? {};
  const natMap = (key: string) => {
    const to = nat[key];
    if (!to) return null;
    const i = to.lastIndexOf(':');
    return { host: to.slice(0, i), port: Number(to.slice(i + 1)) };
  };
  const slotAware = cfg.safe['slot-aware'];
  const options: ClusterOptions = {
    natMap,
    redisOptions: { connectTimeout: redisOptions.connectTimeout, maxRetriesPerRequest: redisOptions.maxRetriesPerRequest },
    enableAutoPipelining: true,
    scaleReads: 'master',
    maxRedirections: slotAware ? 16 : 0,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 50,
    retryDelayOnMoved: 0,
    // A map re-read each second even without a redirect, so a failover is noticed between requests.
    slotsRefreshInterval: slotAware ? 1_000 : 0,
    slotsRefreshTimeout: 1_000,
    clusterRetryStrategy: (times) => Math.min(times * 100, 1_000),
  };
  const cluster = new Cluster(clusterSeeds(cfg.redisClusterUrl!), options);
  if (Object.keys(nat).length) followRedirectsThroughNat(cluster, natMap);
  return cluster;
}

type RedirectHandler = (error: Error, ttl: unknown, handlers: unknown) => void;

/**
 * ioredis 5 maps the address in an ASK through natMap but records the address in a MOVED unmapped
 * in its slot table, where no connection has that name: the command then goes to a random node
 * (more MOVEDs, up to maxRedirections) until the next slot refresh. Rewriting the address in both
 * replies to the mapped one before ioredis reads them makes a MOVED go straight to the new owner.
 */
function followRedirectsThroughNat(cluster: Cluster, natMap: (key: string) => { host: string; port: number } | null): void {
  const proto = Object.getPrototypeOf(cluster) as { handleError: RedirectHandler };
  const original = proto.handleError;
  (cluster as unknown as { handleError: RedirectHandler }).handleError = function (this: Cluster, error, ttl, handlers) {
    const m = /^(MOVED|ASK) (\d+) (\S+)$/.exec(error.message);
    const to = m ? natMap(m[3]!) : null;
    if (m && to) error.message = `${m[1]} ${m[2]} ${to.host}:${to.port}`;
    return original.call(this, error, ttl, handlers);
  };
}

/** Log each distinct connection error once, to stderr: stdout carries only the ready line. */
function errorLogger(cfg: ResolvedConfig, name: string): { onError(e: Error): void; onReady(): void } {
  let last = '';
  return {
    onError(e) {
      if (e.message !== last) process.stderr.write(`stateproof-service ${cfg.instanceId}: ${name}: ${e.message}\n`);
      last = e.message;
    },
    onReady: () => (last = ''),
  };
}

/** The store the config names, connected (or trying to: startup waits up to 2 s, then goes on). */
async function openStore(cfg: ResolvedConfig, guard: ReturnType<typeof createStoreGuard>, metrics: ReturnType<typeof createMetrics>): Promise<StateStore> {
  const firstContact = (p: Promise<unknown>) => Promise.race([p.catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
  if (cfg.postgresUrl) {
    const log = errorLogger(cfg, 'postgres');
    const store = new PgSessionStore(PgSessionStore.create(cfg.postgresUrl, log.onError), guard, metrics);
    await firstContact(store.ensureSchema());
    return store;
  }
  if (cfg.redisClusterUrl) {
    const cluster = clusterClient(cfg);
    const log = errorLogger(cfg, 'redis-cluster');
    cluster.on('error', log.onError);
    cluster.on('node error', log.onError);
    cluster.on('ready', log.onReady);
    await firstContact(new Promise<void>((resolve) => cluster.once('ready', () => resolve())));
    return new SessionStore(cluster, undefined, guard, metrics);
  }
  const redis = new Redis(cfg.redisUrl!, redisOptions);
  const replica = cfg.replicaRedisUrl ? new Redis(cfg.replicaRedisUrl, redisOptions) : undefined;
  for (const [name, client] of [['redis', redis], ['replica', replica]] as const) {
    const log = errorLogger(cfg, name);
    client?.on('error', log.onError);
    client?.on('ready', log.onReady);
  }
  await firstContact(new Promise<void>((resolve) => redis.once('ready', () => resolve())));
  return new SessionStore(redis, replica, guard, metrics);
}

export async function startService(input: Partial<ServiceConfig>): Promise<ServiceHandle> {
  const cfg = resolveConfig(input);
  const metrics = createMetrics(cfg.safe.observability);
  const guard = createStoreGuard(cfg.safe.breaker, {
    timeoutMs: cfg.storeTimeoutMs,
    failures: cfg.breakerFailures,
    halfOpenAfterMs: cfg.breakerHalfOpenAfterMs,
    onStateChange: (s) => {
      metrics.breakerState(s === 'closed' ? 0 : s === 'open' ? 1 : 2);
      if (s === 'open') metrics.lifecycle('degrade');
    },
  });
  const store = await openStore(cfg, guard, metrics);
  const ctx: ServiceContext = {
    cfg,
    store,
    cache: new LocalCache(cfg.cacheEntries),
    metrics,
    model: createModel(cfg.latency),
    guard,
  };
  const audit = createAuditLog(cfg.safe.observability ? cfg.auditLog : undefined, cfg.instanceId);
  const server = createHttpServer({ ctx, audit, tokens: new Map(Object.entries(cfg.tokens)) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      guard.dispose();
      await store.close();
      await audit.close();
    })());

  return {
    url: `http://${host}:${port}`,
    port,
    config: cfg,
    close,
    [Symbol.asyncDispose]: close,
  };
}
