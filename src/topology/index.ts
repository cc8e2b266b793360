/**
 * `startTopology(opts)`: one call starts the world a run needs and returns a handle that tears all
 * of it down (`await using topology = await startTopology({...})`, or `topology.stop()`), also on
 * error and on SIGINT/SIGTERM. Providers: `local` (default), `docker`, `external`.
 */
import { UsageError } from '../base/errors.ts';
import { ROUTER_POLICIES } from './router.ts';
import { parseStoreKind } from './store-kind.ts';
import { TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions, type TopologyProvider } from './types.ts';

export type { Topology, TopologyOptions, TopologyInstance, TopologyProvider, InstanceSpec, ExternalTarget, FaultTargets, StoppedTopology, AdapterLaunch } from './types.ts';
export { TOPOLOGY_DEFAULTS, LINK_NAMES } from './types.ts';
export type { FaultableProcess } from './faultable.ts';
export type { RouterPolicy, Router } from './router.ts';
export { ROUTER_POLICIES, startRouter } from './router.ts';
export { sweepStaleRuns } from './cleanup.ts';
export { STORE_KINDS, parseStoreKind, type StoreKind } from './store-kind.ts';
export type { StoreInfo } from './store.ts';

const PROVIDERS: readonly TopologyProvider[] = ['local', 'docker', 'external'];

export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const provider = opts.provider ?? TOPOLOGY_DEFAULTS.provider;
  if (!PROVIDERS.includes(provider)) throw new UsageError(`Unknown topology provider "${provider}"; use one of ${PROVIDERS.join(', ')}.`);
  if (opts.store !== undefined) parseStoreKind(opts.store, 'store');
  if (opts.store !== undefined && opts.store !== 'redis' && provider !== 'local') throw new UsageError(`--store ${opts.store} runs with the local provider only; the ${provider} provider's store is Redis.`);
  if (opts.adapter !== undefined && provider !== 'local') throw new UsageError(`An adapter (${opts.adapter.name}) runs with the local provider only; the ${provider} provider starts the reference service.`);
  if (opts.router !== undefined && !ROUTER_POLICIES.includes(opts.router)) throw new UsageError(`Unknown router policy "${opts.router}"; use one of ${ROUTER_POLICIES.join(', ')}.`);
  // Providers load lazily: `external` must not pay for testcontainers, nor `local` for docker.
  switch (provider) {
    case 'local':
      return (await import('./local.ts')).startLocalTopology(opts);
    case 'docker':
      return (await import('./docker.ts')).startDockerTopology(opts);
    case 'external':
      return (await import('./external.ts')).startExternalTopology(opts);
  }
}
