/**
 * Provider `external`: a backend someone else runs. Nothing is started or stopped; the harness gets
 * the URLs and injects only the faults it has access to: network faults when a Toxiproxy API is
 * given, store faults when a Redis URL is given, never process faults.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { UsageError, EnvironmentError } from '../base/errors.ts';
import { TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions } from './types.ts';

function checkUrl(what: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} is not a URL: "${value}". Example: ${protocols[0]}//127.0.0.1:8080`);
  }
  if (!protocols.includes(url.protocol)) throw new UsageError(`${what} must use ${protocols.join(' or ')}; got "${value}".`);
  return value.replace(/\/+$/, '');
}

export async function startExternalTopology(opts: TopologyOptions): Promise<Topology> {
  const ext = opts.external;
  if (!ext?.routerUrl) throw new UsageError('Provider "external" needs external.routerUrl (the URL of the backend under test).');
  const routerUrl = checkUrl('The external router URL', ext.routerUrl, ['http:', 'https:']);
  const instances = (ext.instances ?? []).map((i) => ({ id: i.id, url: checkUrl(`Instance ${i.id}'s URL`, i.url, ['http:', 'https:']), unsafe: [] as string[] }));
  const redisUrl = ext.redisUrl ? checkUrl('The Redis URL', ext.redisUrl, ['redis:', 'rediss:']) : undefined;
  const toxiproxyUrl = ext.toxiproxyUrl ? checkUrl('The Toxiproxy URL', ext.toxiproxyUrl, ['http:']) : undefined;
  let proxies: string[] = [];
  if (toxiproxyUrl) {
    if (ext.proxies) proxies = [...ext.proxies];
    else {
      try {
        proxies = Object.keys(await new Toxiproxy(toxiproxyUrl).getAll());
      } catch (e) {
        throw new EnvironmentError(`Could not list the proxies of the Toxiproxy at ${toxiproxyUrl}: ${(e as Error).message}. Is it running?`);
      }
    }
  }
  const runId = `external-${Date.now()}`;
  const stopped = { runId, auditLogPaths: [] as string[] };
  const topology: Topology = {
    provider: 'external',
    runId,
    dir: '',
    routerUrl,
    instances,
    redis: redisUrl ? { url: redisUrl } : undefined,
    toxiproxy: toxiproxyUrl ? { url: toxiproxyUrl, embedded: false, proxies } : undefined,
    tenants: { ...(opts.tenants ?? TOPOLOGY_DEFAULTS.tenants) },
    auditLogPaths: [],
    processes: {},
    faultTargets: () => ({
      ...(toxiproxyUrl ? { toxiproxyUrl, proxies: [...proxies] } : {}),
      ...(redisUrl ? { redis: { url: redisUrl } } : {}),
      processes: {},
    }),
    stop: async () => stopped,
    [Symbol.asyncDispose]: async () => {},
  };
  return topology;
}
