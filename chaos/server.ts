/**
 * The embedded Toxiproxy-compatible server: `startToxiproxyServer()` → a handle with the API URL.
 * Clients talk to it with toxiproxy-node-client (`new Toxiproxy(handle.url)`), exactly as they
 * would to a real toxiproxy-server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler } from './api.ts';
import { DataWorkers } from './data-workers.ts';
import { ProxyCollection } from './proxy-collection.ts';
import { freshSeed, seededRandom } from '../src/base/random.ts';

export interface ToxiproxyServerOptions {
  /** Address the API (and proxies with an empty listen host) bind to. Default 127.0.0.1. */
  host?: string;
  /** API port; 0 = ephemeral. Default 0. */
  port?: number;
  /** Seed for toxicity and jitter decisions, so a run can be replayed. Default: random. */
  seed?: number;
  /** Client connections each proxy holds at once; default PROXY_DEFAULTS.maxConnections (chaos/proxy.ts). */
  maxConnectionsPerProxy?: number;
  /**
   * Worker processes for the proxies' data path (./data-workers.ts); 0 keeps it in this process.
   * Default 0.
   */
  dataWorkers?: number;
  /** Called with errors that became a 500 (harness bugs or environment trouble). */
  onError?: (e: unknown) => void;
}

export interface ToxiproxyServer extends AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly seed: number;
  /** The proxies, for in-process checks (the API is the way to change them). */
  readonly proxies: ProxyCollection;
  /** The data workers' pids (empty without them), for a cleanup registry. */
  readonly workerPids: number[];
  close(): Promise<void>;
}

export async function startToxiproxyServer(opts: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
  const host = opts.host ?? '127.0.0.1';
  const seed = opts.seed ?? freshSeed();
  const count = opts.dataWorkers ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 64) throw new RangeError(`dataWorkers must be an integer 0-64, got ${count}`);
  const workers = count > 0 ? await DataWorkers.start(count) : undefined;
  const proxies = new ProxyCollection(host, seededRandom(seed), opts.maxConnectionsPerProxy, workers);
  const handler = createApiHandler(proxies, opts.onError);
  const server = http.createServer((req, res) => {
    handler(req, res).catch((e) => {
      opts.onError?.(e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e) => {
    await workers?.close();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  const handle: ToxiproxyServer = {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    seed,
    proxies,
    workerPids: workers?.pids ?? [],
    close() {
      closed ??= new Promise<void>((resolve) => {
        proxies.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => workers?.close());
      return closed;
    },
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return handle;
}
