/**
 * One contract adapter (backends/<name>/main.ts) as a child process, in the place of a
 * reference-service instance: its own port (ephemeral on first start, kept across restarts so the
 * router's URL stays valid), its own link to the store, its stderr in a log file.
 *
 *   node --import tsx backends/<name>/main.ts --store-url <link> --host 127.0.0.1 --port <p>
 *        --tokens tenant-a=…,tenant-b=… [--window-turns N]
 *
 * A library that throws at start-up makes the launcher exit 3 with one line; that line is what
 * the user sees, not a readiness timeout with a log tail.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvironmentError, EXIT_ENVIRONMENT } from '../base/errors.ts';
import type { Clock } from '../base/clock.ts';
import { startProcess } from './process.ts';
import type { ServiceInstance } from './service-instance.ts';
import type { AdapterLaunch } from './types.ts';
import { ReadinessError, Wait } from './wait.ts';

export interface AdapterInstanceOptions {
  id: string;
  adapter: AdapterLaunch;
  /** The store URL for this instance's own link (redis:// or postgres://). */
  storeUrl: string;
  /** tenant → bearer token. */
  tenants: Readonly<Record<string, string>>;
  /** stderr of the adapter is copied here. */
  logPath?: string;
  readyTimeoutMs?: number;
  clock?: Clock;
  tracker?: { addProcess(name: string, pid: number): void; removeProcess(pid: number): void };
}

/** tsx's loader by absolute URL: `--import tsx` would resolve from the user's cwd, which need not hold it. */
function tsxLoader(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist', 'loader.mjs')).href;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function startAdapterInstance(opts: AdapterInstanceOptions): Promise<ServiceInstance> {
  const { adapter } = opts;
  const readyLine = new RegExp(`^${escapeRegExp(adapter.name)} listening on (http://\\S+)$`);
  let port = 0;
  let log: WriteStream | undefined;
  if (opts.logPath) log = createWriteStream(opts.logPath, { flags: 'a' });
  const tokens = Object.entries(opts.tenants).map(([tenant, token]) => `${tenant}=${token}`).join(',');
  const args = (): string[] => [
    '--import',
    tsxLoader(),
    adapter.main,
    '--store-url',
    opts.storeUrl,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--tokens',
    tokens,
    ...(adapter.windowTurns !== undefined ? ['--window-turns', String(adapter.windowTurns)] : []),
  ];

  const timeoutMs = opts.readyTimeoutMs;
  const proc = await startProcess({
    name: opts.id,
    command: process.execPath,
    args,
    env: adapter.env,
    clock: opts.clock,
    tracker: opts.tracker,
    wait: Wait.all(Wait.forLogLine(readyLine, { stream: 'stdout', timeoutMs }), Wait.forHttp((r) => `${r.match![1]}/healthz`, { timeoutMs })),
    onLine: log ? (line, stream) => log!.write(stream === 'stderr' ? `${line}\n` : `[stdout] ${line}\n`) : undefined,
  }).catch((e: unknown) => {
    log?.end();
    throw startFailure(e, adapter.name, opts.id);
  });
  const url = proc.ready.match![1]!;
  port = Number(new URL(url).port);

  let stopped: Promise<void> | undefined;
  const instance: ServiceInstance = {
    id: opts.id,
    name: opts.id,
    url,
    port,
    schemaVersion: undefined,
    unsafe: [],
    logPath: opts.logPath,
    process: proc,
    get pid() {
      return proc.pid;
    },
    kill9: () => proc.kill9(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    // The plan refuses a restart to a schema version before the run (an adapter has none).
    restart: () => proc.restart(),
    stop() {
      stopped ??= proc.stop().then(() => new Promise<void>((r) => (log ? log.end(() => r()) : r())));
      return stopped;
    },
    [Symbol.asyncDispose]: () => instance.stop(),
  };
  return instance;
}

/**
 * The launcher's own line when it exited 3 (`<name>: the library failed at start-up against …`),
 * else the readiness error as it was.
 */
function startFailure(e: unknown, name: string, id: string): unknown {
  if (!(e instanceof ReadinessError)) return e;
  const exited = new RegExp(`exited with code ${EXIT_ENVIRONMENT} while`).test(e.message);
  const own = e.message.split('\n').reverse().find((l) => l.startsWith(`${name}: `));
  if (exited && own) return new EnvironmentError(`${own} (instance ${id})`);
  return e;
}
