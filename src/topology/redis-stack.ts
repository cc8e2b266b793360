/**
 * Redis primary and an optional replica. The replica follows the primary through a link the caller
 * provides (the "replication" proxy), so lag and partitions can be injected between them:
 *
 *   primary ◄── replication link (fault proxy) ◄── replica (REPLICAOF link)
 */
import { Redis } from 'ioredis';
import { startRedisServer, type RedisFlavor, type RedisServer, type RedisServerOptions } from './redis-server.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { EnvironmentError } from '../base/errors.ts';
import type { FaultableProcess } from './faultable.ts';

export const REDIS_STACK_DEFAULTS = {
  replicaSyncTimeoutMs: 15_000,
} as const;

export interface RedisStackOptions {
  aof?: boolean;
  replica?: boolean;
  /** redis-server (default) or valkey-server, for the primary and the replica alike. */
  flavor?: RedisFlavor;
  /** Extra redis-server config for the primary (e.g. maxmemory). */
  config?: Record<string, string>;
  /** Makes the replication link: given the primary's address, returns where the replica should connect. */
  replicationLink?: (primary: { host: string; port: number }) => Promise<{ host: string; port: number }>;
  tracker?: { addProcess(name: string, pid: number): void; removeProcess(pid: number): void };
  clock?: Clock;
}

export interface RedisStack extends AsyncDisposable {
  readonly primary: RedisServer;
  readonly replica?: RedisServer;
  /** Where the replica connects to follow the primary (the proxy, or the primary itself). */
  readonly replicationSource?: { host: string; port: number };
  /** Process-fault handles: "redis-server" and, with a replica, "redis-replica". */
  readonly processes: Record<string, FaultableProcess>;
  stop(): Promise<void>;
}

/** Points `replica` at `source` and waits until the initial sync is done. */
export async function followPrimary(replica: RedisServer, source: { host: string; port: number }, opts: { timeoutMs?: number; clock?: Clock } = {}): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? REDIS_STACK_DEFAULTS.replicaSyncTimeoutMs;
  const client = new Redis(replica.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  // Failures reach us as the commands' rejections; the event alone would print ioredis' stack.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.call('REPLICAOF', source.host, String(source.port));
    const deadline = clock.now() + timeoutMs;
    let info = '';
    while (clock.now() < deadline) {
      info = await client.info('replication');
      if (/master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info)) return;
      await clock.sleep(50);
    }
    throw new EnvironmentError(
      `The Redis replica on port ${replica.port} did not finish its initial sync from ${source.host}:${source.port} within ${timeoutMs} ms. INFO replication:\n${info}\nReplica log:\n${replica.logTail()}`,
    );
  } finally {
    client.disconnect();
  }
}

function redisProcess(name: string, server: RedisServer, afterRestart: () => Promise<void>): FaultableProcess {
  const signal = (s: NodeJS.Signals) => {
    if (server.pid <= 0) throw new Error(`${name} is not running`);
    process.kill(server.pid, s);
  };
  return {
    name,
    get pid() {
      return server.pid;
    },
    kill9: () => server.kill9(),
    pause: async () => signal('SIGSTOP'),
    resume: async () => signal('SIGCONT'),
    async restart() {
      // (redis-server.ts continues a paused server before stopping it.)
      await server.restart();
      await afterRestart();
    },
  };
}

/**
 * The same server handle, but a restart (by a store fault, say) re-registers the new pid with the
 * cleanup tracker, so a crash of the harness right after still finds it.
 */
function trackedServer(server: RedisServer, name: string, tracker: RedisStackOptions['tracker']): RedisServer {
  if (!tracker) return server;
  const track = async <T>(action: () => Promise<T>): Promise<T> => {
    const old = server.pid;
    try {
      return await action();
    } finally {
      if (server.pid !== old) {
        tracker.removeProcess(old);
        tracker.addProcess(name, server.pid);
      }
    }
  };
  return Object.create(server, {
    restart: { value: (o?: { hard?: boolean }) => track(() => server.restart(o)) },
    stop: { value: async (o?: { keepDir?: boolean }) => {
      const pid = server.pid;
      await server.stop(o);
      tracker.removeProcess(pid);
    } },
    [Symbol.asyncDispose]: { value: () => server.stop() },
  }) as RedisServer;
}

export async function startRedisStack(opts: RedisStackOptions = {}): Promise<RedisStack> {
  // Redis waits 5 s by default before a diskless full sync, hoping more replicas join; ours is alone.
  const base: RedisServerOptions = { aof: opts.aof ?? false, flavor: opts.flavor, config: { ...(opts.replica ? { 'repl-diskless-sync-delay': '0' } : {}), ...opts.config } };
  const primary = trackedServer(await startRedisServer(base), 'redis-server', opts.tracker);
  opts.tracker?.addProcess('redis-server', primary.pid);
  let replica: RedisServer | undefined;
  let source: { host: string; port: number } | undefined;
  try {
    if (opts.replica) {
      source = opts.replicationLink ? await opts.replicationLink({ host: primary.host, port: primary.port }) : { host: primary.host, port: primary.port };
      replica = trackedServer(await startRedisServer({ flavor: opts.flavor, config: { 'replica-read-only': 'yes' } }), 'redis-replica', opts.tracker);
      opts.tracker?.addProcess('redis-replica', replica.pid);
      await followPrimary(replica, source, { clock: opts.clock });
    }
  } catch (e) {
    await replica?.stop();
    await primary.stop();
    throw e;
  }
  const processes: Record<string, FaultableProcess> = {
    'redis-server': redisProcess('redis-server', primary, async () => {}),
  };
  if (replica && source) {
    const r = replica;
    const s = source;
    // REPLICAOF was given at run time, so a restarted replica must be told again.
    processes['redis-replica'] = redisProcess('redis-replica', r, () => followPrimary(r, s, { clock: opts.clock }));
  }
  let stopped: Promise<void> | undefined;
  const stack: RedisStack = {
    primary,
    replica,
    replicationSource: source,
    processes,
    stop() {
      stopped ??= (async () => {
        const pids = [primary.pid, replica?.pid ?? -1];
        await Promise.all([replica?.stop(), primary.stop()]);
        for (const pid of pids) opts.tracker?.removeProcess(pid);
      })();
      return stopped;
    },
    [Symbol.asyncDispose]: () => stack.stop(),
  };
  return stack;
}
