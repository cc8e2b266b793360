/**
 * A Redis Cluster (or Valkey cluster) of 6 nodes on 127.0.0.1: 3 primaries and 3 replicas,
 * created by `redis-cli --cluster create … --cluster-replicas 1` (valkey-cli for Valkey).
 *
 *   service ──► [cluster-n1] ──► n1 (client port) ◄──┐
 *           ──► [cluster-n2] ──► n2                   ├── cluster bus (client port's own bus
 *           …                                         │   port, direct: never through a link)
 *           ──► [cluster-n6] ──► n6 ◄────────────────┘
 *
 * Each node sits behind its own link on the fault proxy. The nodes announce their real address
 * (CLUSTER SLOTS, MOVED and ASK name it); a client maps each announced address to the node's link
 * (ioredis Cluster `natMap`), so cutting "cluster-n1" cuts the service off n1 while the bus, and
 * replication, go on: the cluster sees n1 alive, the service cannot reach it.
 *
 * Ready means every node answers CLUSTER INFO with cluster_state:ok and knows all 6 nodes, and every
 * replica's link to its primary is up.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../base/clock.ts';
import { EnvironmentError } from '../base/errors.ts';
import { freePort } from './ports.ts';
import { startRedisServer, type RedisFlavor, type RedisServer } from './redis-server.ts';
import type { FaultableProcess } from './faultable.ts';

export const CLUSTER_DEFAULTS = {
  nodes: 6,
  replicasPerPrimary: 1,
  /**
   * cluster-node-timeout: how long a primary may be unreachable on the bus before its replica
   * takes over. Redis's default is 15 s; 1 s keeps a failover inside a CI scenario.
   */
  nodeTimeoutMs: 1_000,
  /** Bound on reaching cluster_state:ok on every node after the create. */
  readyTimeoutMs: 20_000,
  /** Bound on one redis-cli --cluster call. */
  cliTimeoutMs: 60_000,
} as const;

/** Redis 7 and Valkey 8 take the bus port as a setting; kept below 65536 whatever the client port. */
const CLUSTER_SETTINGS = (nodeTimeoutMs: number, busPort: number): Record<string, string> => ({
  'cluster-enabled': 'yes',
  'cluster-config-file': 'nodes.conf',
  'cluster-node-timeout': String(nodeTimeoutMs),
  'cluster-port': String(busPort),
  // The other shards keep serving while one has no primary (Redis's default stops them all).
  'cluster-require-full-coverage': 'no',
  'repl-diskless-sync-delay': '0',
});

const CLI: Record<RedisFlavor, { binary: string; env: string }> = {
  redis: { binary: 'redis-cli', env: 'STATEPROOF_REDIS_CLI' },
  valkey: { binary: 'valkey-cli', env: 'STATEPROOF_VALKEY_CLI' },
};

export function clusterCliBinary(flavor: RedisFlavor): string {
  const c = CLI[flavor];
  const fromEnv = process.env[c.env];
  const candidates = fromEnv ? [fromEnv] : [...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, c.binary)), `/usr/bin/${c.binary}`];
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new EnvironmentError(
    fromEnv
      ? `${c.env}=${fromEnv} is not an executable ${c.binary}.`
      : `${c.binary} was not found on PATH; it creates the cluster. Install it (Debian/Ubuntu: it comes with ${flavor === 'redis' ? 'redis-tools' : 'valkey-tools'}) or set ${c.env} to its path.`,
  );
}

/** Runs `<cli> --cluster …`; rejects with its output on a non-zero exit or after the timeout. */
export function clusterCli(cli: string, args: string[], timeoutMs: number = CLUSTER_DEFAULTS.cliTimeoutMs): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cli)} ${args.slice(0, 2).join(' ')} failed: ${(stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(stdout);
    });
  });
}

export interface ClusterNode {
  /** "n1" … "n6", in the order of the create command: n1-n3 start as primaries. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
  readonly url: string;
  readonly pid: number;
  readonly aof: boolean;
  readonly server: RedisServer;
  kill9(): Promise<void>;
  restart(opts?: { hard?: boolean }): Promise<void>;
}

export interface ClusterNodeRole {
  name: string;
  id: string;
  address: string;
  role: 'master' | 'slave';
  /** The primary's node id, for a replica. */
  masterId?: string;
  failed: boolean;
  /** Slot ranges, for a primary: [[0, 5460]]. */
  slots: Array<[number, number]>;
}

export interface RedisCluster {
  readonly flavor: RedisFlavor;
  readonly nodes: readonly ClusterNode[];
  readonly cli: string;
  readonly nodeTimeoutMs: number;
  readonly processes: Record<string, FaultableProcess>;
  /**
   * The roles and slots from any node that answers, or as the node named `node` sees them (a
   * primary's view of its own slots changes with its own SETSLOT, before the bus carries it on).
   */
  roles(node?: string): Promise<ClusterNodeRole[]>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  flavor?: RedisFlavor;
  nodeTimeoutMs?: number;
  readyTimeoutMs?: number;
  config?: Record<string, string>;
  tracker?: { addProcess(name: string, pid: number): void; removeProcess(pid: number): void };
  clock?: Clock;
}

/** A client port and a bus port, both free a moment ago. */
async function portPair(): Promise<{ port: number; busPort: number }> {
  try {
    const port = await freePort();
    let busPort = await freePort();
    for (let i = 0; busPort === port && i < 5; i++) busPort = await freePort();
    return { port, busPort };
  } catch (e) {
    throw new EnvironmentError(`a cluster needs ${CLUSTER_DEFAULTS.nodes * 2} free ports on 127.0.0.1 (a client and a bus port per node) and fewer were free: ${(e as Error).message}. Free some ports and retry.`);
  }
}

async function startNode(name: string, flavor: RedisFlavor, nodeTimeoutMs: number, config: Record<string, string> | undefined): Promise<{ server: RedisServer; busPort: number }> {
  for (let attempt = 0; ; attempt++) {
    const { port, busPort } = await portPair();
    try {
      const server = await startRedisServer({ flavor, port, config: { ...CLUSTER_SETTINGS(nodeTimeoutMs, busPort), ...config } });
      return { server, busPort };
    } catch (e) {
      // A port taken between the probe and the bind: try another pair.
      if (attempt >= 3 || !/Address already in use|exited with code/.test((e as Error).message)) throw e;
    }
  }
}

/** CLUSTER NODES as roles. */
export function parseClusterNodes(text: string, names: ReadonlyMap<string, string>): ClusterNodeRole[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flags, master, , , , , ...slotSpecs] = line.trim().split(' ');
      const address = addr!.split('@')[0]!;
      const f = flags!.split(',');
      return {
        name: names.get(address) ?? address,
        id: id!,
        address,
        role: f.includes('master') ? 'master' : 'slave',
        ...(master && master !== '-' ? { masterId: master } : {}),
        failed: f.includes('fail') || f.includes('fail?'),
        slots: slotSpecs.filter((s) => !s.startsWith('[')).map((s) => {
          const [a, b] = s.split('-');
          return [Number(a), Number(b ?? a)] as [number, number];
        }),
      } satisfies ClusterNodeRole;
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function withNode<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: 5_000, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** What keeps a node from being ready, or undefined when it is. */
async function nodeNotReady(node: ClusterNode, expectedNodes: number): Promise<string | undefined> {
  try {
    return await withNode(node.url, async (r) => {
      const info = (await r.call('CLUSTER', 'INFO')) as string;
      const state = /cluster_state:(\w+)/.exec(info)?.[1];
      const known = Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1] ?? 0);
      if (state !== 'ok') return `cluster_state:${state ?? '?'}`;
      if (known < expectedNodes) return `knows ${known} of ${expectedNodes} nodes`;
      const repl = await r.info('replication');
      if (/role:slave/.test(repl) && !/master_link_status:up/.test(repl)) return 'replica not yet in sync with its primary';
      return undefined;
    });
  } catch (e) {
    return `no answer (${(e as Error).message})`;
  }
}

/** Waits until every live node is ready (see the top of the file); throws naming what was still wrong. */
export async function waitClusterOk(nodes: readonly ClusterNode[], opts: { timeoutMs: number; clock?: Clock; skip?: ReadonlySet<string> }): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + opts.timeoutMs;
  let pending: string[] = [];
  for (;;) {
    pending = [];
    for (const n of nodes) {
      if (opts.skip?.has(n.name)) continue;
      const why = await nodeNotReady(n, nodes.length);
      if (why) pending.push(`${n.name} (${n.host}:${n.port}): ${why}`);
    }
    if (pending.length === 0) return;
    if (clock.now() > deadline) throw new EnvironmentError(`the cluster did not reach cluster_state:ok on every node within ${opts.timeoutMs} ms: ${pending.join('; ')}`);
    await clock.sleep(100);
  }
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
  const flavor = opts.flavor ?? 'redis';
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? CLUSTER_DEFAULTS.nodeTimeoutMs;
  // Checked before any node starts: a missing CLI leaves nothing to clean up.
  const cli = clusterCliBinary(flavor);
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(
      nodes.map(async (n) => {
        const pid = n.server.pid;
        await n.server.stop();
        opts.tracker?.removeProcess(pid);
      }),
    );
  };
  try {
    for (let i = 1; i <= CLUSTER_DEFAULTS.nodes; i++) {
      const name = `n${i}`;
      const { server, busPort } = await startNode(name, flavor, nodeTimeoutMs, opts.config);
      opts.tracker?.addProcess(`cluster-${name}`, server.pid);
      nodes.push(clusterNode(name, server, busPort, opts.tracker));
    }
    await clusterCli(cli, ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(CLUSTER_DEFAULTS.replicasPerPrimary), '--cluster-yes']);
    await waitClusterOk(nodes, { timeoutMs: opts.readyTimeoutMs ?? CLUSTER_DEFAULTS.readyTimeoutMs, clock: opts.clock });
  } catch (e) {
    await stop();
    throw e instanceof EnvironmentError ? e : new EnvironmentError(`could not create the ${flavor} cluster: ${(e as Error).message}`, { cause: e });
  }
  const names = new Map(nodes.map((n) => [`${n.host}:${n.port}`, n.name]));
  const processes: Record<string, FaultableProcess> = {};
  for (const n of nodes) processes[`cluster-${n.name}`] = nodeProcess(`cluster-${n.name}`, n);
  let stopping: Promise<void> | undefined;
  return {
    flavor,
    nodes,
    cli,
    nodeTimeoutMs,
    processes,
    async roles(node?: string) {
      let last: unknown;
      for (const n of node === undefined ? nodes : nodes.filter((x) => x.name === node)) {
        try {
          return parseClusterNodes((await withNode(n.url, (r) => r.call('CLUSTER', 'NODES'))) as string, names);
        } catch (e) {
          last = e;
        }
      }
      throw new Error(`no cluster node answered CLUSTER NODES: ${(last as Error)?.message}`);
    },
    stop: () => (stopping ??= stop()),
  };
}

/** A node whose restart (by a fault) re-registers its new pid with the cleanup tracker. */
function clusterNode(name: string, server: RedisServer, busPort: number, tracker: RedisClusterOptions['tracker']): ClusterNode {
  const retrack = async (action: () => Promise<void>) => {
    const old = server.pid;
    try {
      await action();
    } finally {
      if (server.pid !== old) {
        tracker?.removeProcess(old);
        tracker?.addProcess(`cluster-${name}`, server.pid);
      }
    }
  };
  return {
    name,
    host: server.host,
    port: server.port,
    busPort,
    url: server.url,
    get pid() {
      return server.pid;
    },
    aof: server.aof,
    server,
    kill9: () => server.kill9(),
    // Same port and dir: nodes.conf brings the node back with its id, as a replica if it was failed over.
    restart: (o) => retrack(() => server.restart(o)),
  };
}

function nodeProcess(name: string, node: ClusterNode): FaultableProcess {
  const signal = (s: NodeJS.Signals) => {
    if (node.pid <= 0) throw new Error(`${name} is not running`);
    process.kill(node.pid, s);
  };
  return {
    name,
    get pid() {
      return node.pid;
    },
    kill9: () => node.kill9(),
    pause: async () => signal('SIGSTOP'),
    resume: async () => signal('SIGCONT'),
    restart: () => node.restart(),
  };
}
