/**
 * Provider `external`: a backend someone else runs. Nothing is started or stopped; the harness gets
 * the URLs and injects only the faults it has access to: network faults when a Toxiproxy API is
 * given, store faults when a Redis URL is given, never process faults.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { UsageError, EnvironmentError } from '../base/errors.ts';
import { TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions } from './types.ts';
import { startRouter, type Router } from './router.ts';

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
  if (!ext?.routerUrl && !ext?.instances?.length) throw new UsageError('Provider "external" needs external.routerUrl or external.instances (the URLs of the backend under test).');
  const instances = (ext.instances ?? []).map((i) => ({ id: i.id, url: checkUrl(`Instance ${i.id}'s URL`, i.url, ['http:', 'https:']), unsafe: [] as string[] }));
  // Several instances and no load balancer of the user's: the harness's router, so cross-instance
  // traffic reaches every one of them. Its health checks are passive only (a user's backend need
  // not serve /healthz to be judged).
  let router: Router | undefined;
  if (!ext.routerUrl && instances.length > 1) {
    router = await startRouter({ instances: instances.map((i) => ({ id: i.id, url: i.url })), policy: ext.router ?? TOPOLOGY_DEFAULTS.router, healthCheck: { path: null } });
  }
  const routerUrl = router ? router.url : checkUrl('The external router URL', ext.routerUrl ?? instances[0]!.url, ['http:', 'https:']);
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
    stop: async () => {
      await router?.close();
      return stopped;
    },
    [Symbol.asyncDispose]: async () => {
      await router?.close();
    },
  };
  return topology;
}
