/**
 * Provider `docker`: Redis (and its replica) and a real Toxiproxy as containers from testcontainers;
 * the service instances and the router stay local child processes, so process faults still work.
 *
 *   i1…iN (local) ──► toxiproxy container [redis-iN] ──► [redis] ──► redis container
 *   redis-replica container ──► [replication] ──┘
 *
 * Toxiproxy's proxy ports must be published when the container starts, so a fixed block of
 * container ports (PROXY_PORT_BASE…) is exposed and each link gets the next one.
 * testcontainers' reaper removes the containers even if this process is killed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GenericContainer, Network, Wait as TcWait, getContainerRuntimeClient, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { Toxiproxy } from 'toxiproxy-node-client';
import { EnvironmentError } from '../base/errors.ts';
import { instanceOptions, resolveInstanceSpecs, writeTokensFile } from './local.ts';
import { startRouter, type Router } from './router.ts';
import { startServiceInstance, type ServiceInstance } from './service-instance.ts';
import { LINK_NAMES, TOPOLOGY_DEFAULTS, type StoppedTopology, type Topology, type TopologyOptions } from './types.ts';
import type { FaultableProcess } from './faultable.ts';

export const DOCKER_IMAGES = {
  redis: 'redis:7.2-alpine',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.9.0',
} as const;
const PROXY_PORT_BASE = 8666;
const TOXIPROXY_API_PORT = 8474;

/** Undefined when a container engine answers; otherwise why not (for skips and error messages). */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  try {
    await Promise.race([getContainerRuntimeClient(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5_000).unref())]);
    return undefined;
  } catch (e) {
    return `no Docker engine answers (${(e as Error).message.split('\n')[0]})`;
  }
}

export async function startDockerTopology(opts: TopologyOptions): Promise<Topology> {
  const specs = resolveInstanceSpecs(opts.instances);
  const unavailable = await dockerUnavailableReason();
  if (unavailable) throw new EnvironmentError(`Provider "docker" needs a running Docker engine: ${unavailable}. Use the default provider "local" instead.`);

  const dir = opts.runDir ?? (await mkdtemp(path.join(os.tmpdir(), 'stateproof-run-')));
  const undo: Array<() => Promise<unknown>> = [];
  const instances: ServiceInstance[] = [];
  let stopping: Promise<StoppedTopology> | undefined;
  const runId = `docker-${Date.now()}`;
  const stop = () => {
    stopping ??= (async () => {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      if (!opts.runDir) await rm(dir, { recursive: true, force: true });
      return { runId, keptDir: opts.runDir, auditLogPaths: opts.runDir ? instances.map((i) => i.auditLogPath!) : [] };
    })();
    return stopping;
  };

  try {
    const network: StartedNetwork = await new Network().start();
    undo.push(() => network.stop());
    const linkCount = specs.length + 3;
    const proxyPorts = Array.from({ length: linkCount }, (_, i) => PROXY_PORT_BASE + i);

    const redisCommand = ['redis-server', '--save', '', '--appendonly', opts.aof ? 'yes' : 'no', '--appendfsync', 'always', ...Object.entries(opts.redisConfig ?? {}).flatMap(([k, v]) => [`--${k}`, v])];
    const redis: StartedTestContainer = await new GenericContainer(DOCKER_IMAGES.redis)
      .withNetwork(network)
      .withNetworkAliases('redis')
      .withCommand(redisCommand)
      .withExposedPorts(6379)
      .withWaitStrategy(TcWait.forLogMessage(/Ready to accept connections/))
      .start();
    undo.push(() => redis.stop());
    const toxi: StartedTestContainer = await new GenericContainer(DOCKER_IMAGES.toxiproxy)
      .withNetwork(network)
      .withNetworkAliases('toxiproxy')
      .withExposedPorts(TOXIPROXY_API_PORT, ...proxyPorts)
      .withWaitStrategy(TcWait.forHttp('/version', TOXIPROXY_API_PORT))
      .start();
    undo.push(() => toxi.stop());
    const toxiproxyUrl = `http://${toxi.getHost()}:${toxi.getMappedPort(TOXIPROXY_API_PORT)}`;
    const client = new Toxiproxy(toxiproxyUrl);
    let next = 0;
    const names: string[] = [];
    const link = async (name: string, upstream: string) => {
      const port = proxyPorts[next++]!;
      await client.createProxy({ name, listen: `0.0.0.0:${port}`, upstream });
      names.push(name);
      return { containerPort: port, host: toxi.getHost(), port: toxi.getMappedPort(port) };
    };
    const front = await link(LINK_NAMES.redis, 'redis:6379');

    let replica: StartedTestContainer | undefined;
    let replicaReads: { host: string; port: number } | undefined;
    if (opts.replica) {
      const repl = await link(LINK_NAMES.replication, 'redis:6379');
      replica = await new GenericContainer(DOCKER_IMAGES.redis)
        .withNetwork(network)
        .withNetworkAliases('redis-replica')
        .withCommand(['redis-server', '--save', '', '--replicaof', 'toxiproxy', String(repl.containerPort)])
        .withExposedPorts(6379)
        .withWaitStrategy(TcWait.forLogMessage(/MASTER <-> REPLICA sync: Finished with success/))
        .start();
      const r = replica;
      undo.push(() => r.stop());
      replicaReads = await link(LINK_NAMES.replicaReads, 'redis-replica:6379');
    }

    const tenants = opts.tenants ?? TOPOLOGY_DEFAULTS.tenants;
    const tokensFile = await writeTokensFile(dir, tenants);
    undo.push(() => Promise.all(instances.map((i) => i.stop())));
    for (const spec of specs) {
      const own = await link(LINK_NAMES.instance(spec.id), `localhost:${front.containerPort}`);
      instances.push(
        await startServiceInstance(instanceOptions(spec, opts, { dir, tokensFile, redisLink: own, replicaReads })),
      );
    }
    const router: Router = await startRouter({ instances: instances.map((i) => ({ id: i.id, url: i.url })), policy: opts.router ?? TOPOLOGY_DEFAULTS.router, seed: opts.routerSeed });
    undo.push(() => router.close());

    const redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
    const processes: Record<string, FaultableProcess> = Object.fromEntries(instances.map((i) => [i.id, i]));
    return {
      provider: 'docker',
      runId,
      dir,
      routerUrl: router.url,
      router,
      routerPolicy: router.policy,
      instances: instances.map((i) => ({ id: i.id, url: i.url, schemaVersion: i.schemaVersion, unsafe: i.unsafe, auditLogPath: i.auditLogPath, logPath: i.logPath, process: i, redisLink: LINK_NAMES.instance(i.id) })),
      redis: { url: redisUrl, replica: replica ? { url: `redis://${replica.getHost()}:${replica.getMappedPort(6379)}` } : undefined },
      toxiproxy: { url: toxiproxyUrl, embedded: false, proxies: names },
      tenants: { ...tenants },
      auditLogPaths: instances.map((i) => i.auditLogPath!),
      processes,
      faultTargets: () => ({ toxiproxyUrl, proxies: [...names], redis: { url: redisUrl }, processes: { ...processes } }),
      stop,
      [Symbol.asyncDispose]: async () => void (await stop()),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
