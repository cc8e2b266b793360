/**
 * Provider `local`: everything as child processes and in-process servers on 127.0.0.1.
 *
 *   load ──► router ──► i1 ──► [redis-i1] ──┐
 *                  ├──► i2 ──► [redis-i2] ──┼──► [redis] ──► redis-server (primary)
 *                  └──► iN ──► [redis-iN] ──┘                     ▲
 *                        └──(eventual reads)──► [redis-replica] ──► replica ──[replication]──┘
 *
 * [x] = a proxy on the fault proxy (embedded, or a real Toxiproxy at TOXIPROXY_URL). Cutting
 * "redis-i2" isolates one instance; cutting "redis" isolates them all; "replication" lags the replica.
 * The store may be Valkey or PostgreSQL instead (store.ts); the links are the same. The instances
 * may be a contract adapter's processes instead of the reference service (adapter-instance.ts). A
 * cluster (redis-cluster, valkey-cluster) has no front door: each node has its own link "cluster-nK",
 * every instance reaches every node through it, and the instances map the nodes' announced
 * addresses to those links (redis-cluster.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { RunRegistry, sweepStaleRuns } from './cleanup.ts';
import { createLink, removeLinks, type Link } from './links.ts';
import { measureProxyCost, type ProxyCost } from './proxy-cost.ts';
import { startStore, type StartedStore } from './store.ts';
import { startRouter, type Router } from './router.ts';
import { startAdapterInstance } from './adapter-instance.ts';
import { startServiceInstance, type ServiceInstance, type ServiceInstanceOptions } from './service-instance.ts';
import { LINK_NAMES, TOPOLOGY_DEFAULTS, type InstanceSpec, type StoppedTopology, type Topology, type TopologyOptions } from './types.ts';
import type { FaultableProcess } from './faultable.ts';
import { UsageError } from '../base/errors.ts';

export function resolveInstanceSpecs(instances: TopologyOptions['instances']): Array<InstanceSpec & { id: string }> {
  const list: InstanceSpec[] = typeof instances === 'number' || instances === undefined ? Array.from({ length: instances ?? TOPOLOGY_DEFAULTS.instances }, () => ({})) : instances;
  if (list.length < 1 || list.length > 32) throw new UsageError(`A topology needs between 1 and 32 instances; ${list.length} were asked for.`);
  const specs = list.map((s, i) => ({ ...s, id: s.id ?? `i${i + 1}` }));
  const ids = new Set(specs.map((s) => s.id));
  if (ids.size !== specs.length) throw new UsageError(`Instance ids must be unique; got ${specs.map((s) => s.id).join(', ')}.`);
  return specs;
}

/** The tokens file the service reads (token → tenant); both providers write it the same way. */
export async function writeTokensFile(dir: string, tenants: Readonly<Record<string, string>>): Promise<string> {
  const file = path.join(dir, 'tokens.json');
  await writeFile(file, JSON.stringify(Object.fromEntries(Object.entries(tenants).map(([tenant, token]) => [token, tenant]))));
  return file;
}

type Endpoint = { host: string; port: number };

/** One instance's launch options from the topology's options and its spec, for either provider. */
export function instanceOptions(
  spec: InstanceSpec & { id: string },
  opts: TopologyOptions,
  at: { dir: string; tokensFile: string; redisLink: Endpoint; replicaReads?: Endpoint; storeUrl?: string },
): ServiceInstanceOptions {
  return {
    id: spec.id,
    redisUrl: `redis://${at.redisLink.host}:${at.redisLink.port}`,
    storeUrl: at.storeUrl,
    replicaRedisUrl: at.replicaReads ? `redis://${at.replicaReads.host}:${at.replicaReads.port}` : undefined,
    tokensFile: at.tokensFile,
    auditLogPath: path.join(at.dir, `audit-${spec.id}.jsonl`),
    logPath: path.join(at.dir, `service-${spec.id}.log`),
    schemaVersion: spec.schemaVersion ?? opts.schemaVersion,
    unsafe: spec.unsafe ?? opts.unsafe,
    args: [...(opts.serviceArgs ?? []), ...(spec.args ?? [])],
    command: opts.serviceCommand,
    readyTimeoutMs: opts.readyTimeoutMs,
    clock: opts.clock,
  };
}

export function reportSweep(log: (m: string) => void): void {
  const swept = sweepStaleRuns();
  if (swept.runs === 0) return;
  const procs = swept.processesKilled.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
  log(
    `stateproof: cleaned up after ${swept.runs} earlier run(s) whose harness had died: ` +
      `${swept.processesKilled.length ? `killed ${procs}` : 'no process was still running'}` +
      `${swept.dirsRemoved.length ? `; removed ${swept.dirsRemoved.length} temp dir(s)` : ''}.`,
  );
}

/**
 * The proxy's cost on the path an instance's store traffic takes (its own link, then the front
 * door), measured before any load. A failed measurement costs the run nothing but the figure.
 */
async function measureStorePathCost(front: Link, own: Link, store: StartedStore, proxy: ProxyCost['proxy'], log: (m: string) => void): Promise<ProxyCost | undefined> {
  try {
    // In the store's own protocol: a Redis PING sent to Postgres only gets its connection closed.
    return await measureProxyCost(store.primary, own, { via: [own.name, front.name], proxy, protocol: store.kind === 'postgres' ? 'postgres' : 'redis' });
  } catch (e) {
    log(`stateproof: could not measure what the fault proxy adds to a store round trip (${(e as Error).message}); the report will not state it.`);
    return undefined;
  }
}

export async function startLocalTopology(opts: TopologyOptions): Promise<Topology> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const specs = resolveInstanceSpecs(opts.instances);
  reportSweep(log);

  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  const registry = new RunRegistry(runId);
  const ownDir = opts.runDir === undefined;
  const dir = opts.runDir ?? (await mkdtemp(path.join(os.tmpdir(), 'stateproof-run-')));
  if (ownDir) registry.addDir(dir);
  else await mkdir(dir, { recursive: true });

  // Teardown in reverse order of start; each step tolerates a half-started world.
  const undo: Array<() => Promise<void>> = [];
  const instances: ServiceInstance[] = [];
  let stopping: Promise<StoppedTopology> | undefined;
  const stop = (): Promise<StoppedTopology> => {
    stopping ??= (async () => {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch (e) {
          log(`stateproof: a teardown step failed: ${(e as Error).message}`);
        }
      }
      if (ownDir) await rm(dir, { recursive: true, force: true });
      registry.close();
      return { runId, keptDir: ownDir ? undefined : dir, auditLogPaths: ownDir ? [] : instances.map((i) => i.auditLogPath!).filter(Boolean) };
    })();
    return stopping;
  };
  registry.onTeardown(async () => void (await stop()));

  try {
    // The fault proxy.
    const toxiproxyUrl = opts.toxiproxyUrl ?? process.env.TOXIPROXY_URL;
    let embedded: ToxiproxyServer | undefined;
    if (!toxiproxyUrl) {
      embedded = await startToxiproxyServer({ host: '127.0.0.1', port: 0 });
      const e = embedded;
      undo.push(() => e.close());
    }
    const proxyUrl = toxiproxyUrl ?? embedded!.url;
    const links: Link[] = [];
    if (toxiproxyUrl) undo.push(() => removeLinks(toxiproxyUrl, links.map((l) => l.name)));
    const link = async (name: string, upstream: string) => {
      const l = await createLink(proxyUrl, name, upstream);
      links.push(l);
      return l;
    };

    // The store; a Redis or Valkey replica follows through "replication".
    const stack: StartedStore = await startStore({
      kind: opts.store ?? TOPOLOGY_DEFAULTS.store,
      aof: opts.aof,
      replica: opts.replica,
      redisConfig: opts.redisConfig,
      postgresFastStart: opts.postgresFastStart,
      registry,
      clock: opts.clock,
      replicationLink: async (primary) => link(LINK_NAMES.replication, `${primary.host}:${primary.port}`),
    });
    undo.push(() => stack.stop());

    const cluster = stack.cluster;
    const nodeLinks = cluster ? await Promise.all(cluster.nodes.map((n) => link(LINK_NAMES.clusterNode(n.name), `${n.host}:${n.port}`))) : [];
    const clusterAccess = cluster
      ? {
          storeUrl: `redis-cluster://${nodeLinks.map((l) => `${l.host}:${l.port}`).join(',')}`,
          args: ['--cluster-nat', cluster.nodes.map((n, i) => `${n.host}:${n.port}=${nodeLinks[i]!.host}:${nodeLinks[i]!.port}`).join(',')],
        }
      : undefined;
    const front = cluster ? undefined : await link(LINK_NAMES.redis, `${stack.primary.host}:${stack.primary.port}`);
    const replicaReads = stack.replica ? await link(LINK_NAMES.replicaReads, `${stack.replica.host}:${stack.replica.port}`) : undefined;

    // Tokens file: the service maps token → tenant.
    const tenants = opts.tenants ?? TOPOLOGY_DEFAULTS.tenants;
    const tokensFile = await writeTokensFile(dir, tenants);

    // Instances, each through its own link to the front door.
    undo.push(async () => void (await Promise.all(instances.map((i) => i.stop()))));
    const startOne = async (spec: InstanceSpec & { id: string }): Promise<ServiceInstance> => {
      const own = front ? await link(LINK_NAMES.instance(spec.id), `${front.host}:${front.port}`) : nodeLinks[0]!;
      let instance: ServiceInstance;
      if (opts.adapter) {
        instance = await startAdapterInstance({
          id: spec.id,
          adapter: opts.adapter,
          storeUrl: stack.serviceUrl(own),
          tenants,
          logPath: path.join(dir, `${opts.adapter.name}-${spec.id}.log`),
          readyTimeoutMs: opts.readyTimeoutMs ?? TOPOLOGY_DEFAULTS.readyTimeoutMs,
          clock: opts.clock,
          tracker: registry,
        });
      } else {
        const base = instanceOptions(spec, opts, { dir, tokensFile, redisLink: own, replicaReads, storeUrl: clusterAccess?.storeUrl ?? stack.serviceUrl(own) });
        instance = await startServiceInstance({
          ...base,
          args: [...(clusterAccess?.args ?? []), ...(base.args ?? [])],
          readyTimeoutMs: opts.readyTimeoutMs ?? TOPOLOGY_DEFAULTS.readyTimeoutMs,
          tracker: registry,
        });
      }
      instances.push(instance);
      return instance;
    };
    // An adapter's library creates its tables at start-up (PostgresSaver.setup(), PostgresStore.init());
    // three doing so at once on a fresh database collide on its migrations table, as a fleet would
    // that skipped a migrate step. The first creates them alone, as a deploy's migrate step does.
    const first = opts.adapter ? await Promise.allSettled([startOne(specs[0]!)]) : [];
    const started = first.some((s) => s.status === 'rejected') ? first : [...first, ...(await Promise.allSettled(specs.slice(first.length).map(startOne)))];
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    instances.sort((a, b) => specs.findIndex((s) => s.id === a.id) - specs.findIndex((s) => s.id === b.id));

    const router: Router = await startRouter({
      instances: instances.map((i) => ({ id: i.id, url: i.url })),
      policy: opts.router ?? TOPOLOGY_DEFAULTS.router,
      seed: opts.routerSeed ?? TOPOLOGY_DEFAULTS.routerSeed,
    });
    undo.push(() => router.close());

    const processes: Record<string, FaultableProcess> = { ...stack.processes };
    for (const i of instances) processes[i.id] = drainedOnRestart(i, router);
    const redis = stack.direct;
    const proxyNames = links.map((l) => l.name);
    const proxyCost = front ? await measureStorePathCost(front, links.find((l) => l.name === LINK_NAMES.instance(instances[0]!.id))!, stack, embedded ? 'embedded' : 'toxiproxy', log) : undefined;

    const topology: Topology = {
      provider: 'local',
      runId,
      dir,
      routerUrl: router.url,
      router,
      routerPolicy: router.policy,
      instances: instances.map((i) => ({
        id: i.id,
        url: i.url,
        get schemaVersion() {
          return i.schemaVersion;
        },
        unsafe: i.unsafe,
        auditLogPath: i.auditLogPath,
        logPath: i.logPath,
        process: i,
        ...(front ? { redisLink: LINK_NAMES.instance(i.id) } : {}),
      })),
      redis,
      store: stack.info,
      toxiproxy: { url: proxyUrl, embedded: embedded !== undefined, proxies: proxyNames },
      proxyCost,
      tenants: { ...tenants },
      auditLogPaths: instances.map((i) => i.auditLogPath).filter((p): p is string => p !== undefined),
      processes,
      faultTargets: () => ({
        toxiproxyUrl: proxyUrl,
        proxies: [...proxyNames],
        ...stack.planTargets,
        processes: { ...processes },
      }),
      stop,
      [Symbol.asyncDispose]: async () => void (await stop()),
    };
    return topology;
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * An instance whose restart (a deploy step, a fault's undo) is drained first, as a load balancer
 * takes a backend out before a rolling deploy stops it: a request already sent finishes, and none
 * is sent to a process that is closing its connections. Without it a POST that met the closing
 * socket is a 502 of unknown outcome, which says nothing about the service. kill -9 and SIGSTOP
 * stay undrained: those are crashes.
 */
function drainedOnRestart(p: FaultableProcess, router: Router): FaultableProcess {
  return {
    get name() {
      return p.name;
    },
    get pid() {
      return p.pid;
    },
    kill9: () => p.kill9(),
    pause: () => p.pause(),
    resume: () => p.resume(),
    async restart(o) {
      await router.drain(p.name);
      try {
        await p.restart(o);
      } finally {
        router.undrain(p.name);
      }
    },
  };
}
