/**
 * `stateproof proxy`: the embedded Toxiproxy-compatible server on its own, like toxiproxy-server.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startToxiproxyServer } from '../../../chaos/server.ts';
import { EnvironmentError, UsageError } from '../../base/errors.ts';

/** Measured with `npm run bench proxy` (README, Benchmarks): 2 workers beat Toxiproxy 2.12.0 on a busy 2-core box. */
const DEFAULT_WORKERS = 2;

export const help = `stateproof proxy — a Toxiproxy-compatible TCP fault proxy (like toxiproxy-server)

Usage: stateproof proxy [--host 127.0.0.1] [--port 8474] [--config proxies.json] [--seed n] [--workers 2]

Options:
  --host <h>       address the API and proxies bind to (default 127.0.0.1: loopback only)
  --port <n>       API port (default 8474, Toxiproxy's; 0 = ephemeral)
  --config <file>  JSON array of proxies to create at start, as for POST /populate:
                   [{"name": "redis", "listen": "127.0.0.1:26379", "upstream": "127.0.0.1:6379"}]
  --seed <n>       seed for toxicity and jitter decisions (default: random)
  --workers <n>    worker processes for the proxies' data path (default 2; 0 = in this one):
                   on a busy machine, one event loop is one thread, as fast as Toxiproxy only
                   when the cores are free

It prints its API URL, then serves Toxiproxy's HTTP API until SIGINT or SIGTERM. Drive it with
toxiproxy-cli, toxiproxy-node-client or curl:

Examples:
  stateproof proxy
  stateproof proxy --port 0 --config proxies.json
  curl -s -XPOST localhost:8474/proxies/redis/toxics -d '{"type":"latency","attributes":{"latency":200}}'
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8474' },
      config: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string', default: String(DEFAULT_WORKERS) },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number 0-65535, got "${values.port}".`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}".`);

  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new UsageError(`--workers must be an integer 0-64, got "${values.workers}".`);

  let proxies: unknown[] | undefined;
  if (values.config !== undefined) {
    let text: string;
    try {
      text = await readFile(values.config, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --config ${values.config}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--config ${values.config} is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new UsageError(`--config ${values.config} must hold a JSON array of proxies ({"name", "listen", "upstream"}).`);
    proxies = parsed;
  }

  let server;
  try {
    server = await startToxiproxyServer({ host: values.host, port, seed, dataWorkers: workers, onError: (e) => process.stderr.write(`stateproof proxy: ${(e as Error).message ?? e}\n`) });
  } catch (e) {
    throw new EnvironmentError(`cannot listen on ${values.host}:${port}: ${(e as Error).message}. Pick another --port (0 = any free one).`);
  }
  // An empty list creates nothing (and /populate answers it with "proxies": null, as Toxiproxy does).
  if (proxies && proxies.length > 0) {
    try {
      const created = await new Toxiproxy(server.url).populate(proxies as never);
      for (const p of Object.values(created)) process.stderr.write(`proxy ${p.name}: ${p.listen} -> ${p.upstream}${p.enabled ? '' : ' (disabled)'}\n`);
    } catch (e) {
      await server.close();
      throw new UsageError(`--config ${values.config}: the proxies could not be created (${(e as Error).message}); check names, listen addresses and upstreams.`);
    }
  }
  process.stdout.write(`stateproof proxy: Toxiproxy API listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
