/**
 * One reference-service instance as a child process (bin/stateproof-service.mjs, INTERFACES.md §1):
 * its own port (ephemeral on first start, kept across restarts so the router's URL stays valid),
 * schema version, unsafe switches, audit log file and stderr log file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProcess, type StartedProcess } from './process.ts';
import { Wait } from './wait.ts';
import type { Clock } from '../base/clock.ts';
import type { FaultableProcess } from './faultable.ts';

export const SERVICE_BINARY = fileURLToPath(new URL('../../bin/stateproof-service.mjs', import.meta.url));
export const SERVICE_READY_LINE = /^stateproof-service listening on (http:\/\/\S+)$/;

export interface ServiceInstanceOptions {
  id: string;
  redisUrl: string;
  /** The store URL (redis:// or postgres://), passed as --store-url; wins over redisUrl. */
  storeUrl?: string;
  replicaRedisUrl?: string;
  tokensFile?: string;
  auditLogPath?: string;
  /** stderr of the service is copied here. */
  logPath?: string;
  schemaVersion?: number;
  unsafe?: readonly string[];
  /** More flags for the service, e.g. ['--store-timeout-ms', '200']. */
  args?: readonly string[];
  /** The command that runs the service; default `node bin/stateproof-service.mjs`. */
  command?: readonly string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  clock?: Clock;
  tracker?: { addProcess(name: string, pid: number): void; removeProcess(pid: number): void };
}

export interface ServiceInstance extends FaultableProcess, AsyncDisposable {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly schemaVersion: number | undefined;
  readonly unsafe: readonly string[];
  readonly auditLogPath?: string;
  readonly logPath?: string;
  readonly process: StartedProcess;
  stop(): Promise<void>;
}

export async function startServiceInstance(opts: ServiceInstanceOptions): Promise<ServiceInstance> {
  const [command, ...prefix] = opts.command && opts.command.length > 0 ? opts.command : [process.execPath, SERVICE_BINARY];
  let port = 0;
  let schemaVersion = opts.schemaVersion;
  let log: WriteStream | undefined;
  if (opts.logPath) log = createWriteStream(opts.logPath, { flags: 'a' });

  const args = (o: { schemaVersion?: number }): string[] => {
    if (o.schemaVersion !== undefined) schemaVersion = o.schemaVersion;
    const a = [...prefix, '--host', '127.0.0.1', '--port', String(port), '--instance-id', opts.id, ...(opts.storeUrl ? ['--store-url', opts.storeUrl] : ['--redis', opts.redisUrl])];
    if (opts.replicaRedisUrl) a.push('--replica-redis', opts.replicaRedisUrl);
    if (schemaVersion !== undefined) a.push('--schema-version', String(schemaVersion));
    if (opts.unsafe && opts.unsafe.length > 0) a.push('--unsafe', opts.unsafe.join(','));
    if (opts.tokensFile) a.push('--tokens', opts.tokensFile);
    if (opts.auditLogPath) a.push('--audit-log', opts.auditLogPath);
    a.push(...(opts.args ?? []));
    return a;
  };

  const timeoutMs = opts.readyTimeoutMs;
  const proc = await startProcess({
    name: opts.id,
    command: command!,
    args,
    env: opts.env,
    clock: opts.clock,
    tracker: opts.tracker,
    // /healthz, not /readyz: a restart during a store outage must still count as started.
    wait: Wait.all(
      Wait.forLogLine(SERVICE_READY_LINE, { stream: 'stdout', timeoutMs }),
      Wait.forHttp((r) => `${r.match![1]}/healthz`, { timeoutMs }),
    ),
    onLine: log ? (line, stream) => log!.write(stream === 'stderr' ? `${line}\n` : `[stdout] ${line}\n`) : undefined,
  }).catch((e: unknown) => {
    log?.end();
    throw e;
  });
  const url = proc.ready.match![1]!;
  port = Number(new URL(url).port);

  let stopped: Promise<void> | undefined;
  const instance: ServiceInstance = {
    id: opts.id,
    name: opts.id,
    url,
    port,
    get schemaVersion() {
      return schemaVersion;
    },
    unsafe: [...(opts.unsafe ?? [])],
    auditLogPath: opts.auditLogPath,
    logPath: opts.logPath,
    process: proc,
    get pid() {
      return proc.pid;
    },
    kill9: () => proc.kill9(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    restart: (o) => proc.restart(o),
    stop() {
      stopped ??= proc.stop().then(
        () => new Promise<void>((r) => (log ? log.end(() => r()) : r())),
      );
      return stopped;
    },
    [Symbol.asyncDispose]: () => instance.stop(),
  };
  return instance;
}
