/** What the run starts: the topology a scenario asks for, shaped by the user's flags, or their own backend. */
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { UsageError } from '../base/errors.ts';
import { TOPOLOGY_DEFAULTS, type TopologyOptions } from '../topology/index.ts';
import { RUN_DEFAULTS, type RunOptions } from './run-options.ts';
import type { ResolvedProfile } from '../backend/profile.ts';

export function topologyFor(spec: ScenarioSpec | undefined, opts: RunOptions, unsafe: string[], log: (l: string) => void, backend?: ResolvedProfile): TopologyOptions {
  if (backend) {
    const local = [unsafe.length ? '--unsafe' : '', opts.instances !== undefined ? '--instances' : '', opts.store !== undefined ? '--store' : ''].filter(Boolean);
    if (local.length) throw new UsageError(`${local.join(', ')} shape the embedded topology; with --target the backend is yours, so they do not apply. Drop ${local.length > 1 ? 'them' : 'it'} or drop --target.`);
    if (backend.instances.length === 0) throw new UsageError(`the backend profile (${backend.source}) lists no instances: give --target URL or 'instances' in the profile.`);
    if (opts.router !== undefined && backend.instances.length < 2) throw new UsageError('--router routes between several instances; with one --target there is nothing to route. Give more targets or drop --router.');
    const tenants = backend.tenants.length ? Object.fromEntries(backend.tenants.map((t, i) => [`tenant-${i + 1}`, t])) : { [opts.env?.STATEPROOF_TENANT ?? 'tenant-a']: opts.env?.STATEPROOF_TOKEN ?? 'tenant-a-token' };
    return {
      provider: 'external',
      external: {
        ...(backend.instances.length === 1 ? { routerUrl: backend.instances[0]! } : {}),
        instances: backend.instances.map((url, i) => ({ id: `i${i + 1}`, url })),
        router: opts.router ?? backend.router,
        toxiproxyUrl: opts.toxiproxyUrl ?? backend.access.toxiproxyUrl,
        redisUrl: opts.redisUrl ?? backend.access.redisUrl,
      },
      tenants,
      log,
    };
  }
  const t = spec?.topology;
  const instances = opts.instances ?? (Array.isArray(t?.instances) ? t.instances.length : t?.instances) ?? TOPOLOGY_DEFAULTS.instances;
  const perInstance = Array.isArray(t?.instances) ? t.instances : [];
  return {
    provider: 'local',
    instances: Array.from({ length: instances }, (_, i) => ({ schemaVersion: perInstance[i]?.schemaVersion, unsafe })),
    router: opts.router ?? t?.router ?? TOPOLOGY_DEFAULTS.router,
    replica: t?.replica,
    aof: t?.aof,
    redisConfig: t?.redisConfig,
    store: opts.store ?? t?.store,
    // fsync and full_page_writes off for Postgres in the ci profile only; the report says so.
    postgresFastStart: (opts.profile ?? RUN_DEFAULTS.profile) === 'ci',
    serviceArgs: t?.serviceArgs,
    toxiproxyUrl: opts.toxiproxyUrl,
    log,
  };
}

export function describeTopology(t: TopologyOptions): string {
  const n = Array.isArray(t.instances) ? t.instances.length : t.instances;
  const unsafe = Array.isArray(t.instances) ? t.instances[0]?.unsafe ?? [] : [];
  return `${t.store ?? TOPOLOGY_DEFAULTS.store}, fault proxy, ${n}${t.adapter ? ` ${t.adapter.name}` : ''} instance${n === 1 ? '' : 's'} behind a ${t.router} router${unsafe.length ? ` (unsafe: ${unsafe.join(',')})` : ''}`;
}
