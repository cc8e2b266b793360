/** What the run starts: the topology a scenario asks for, shaped by the user's flags, or their own backend. */
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { UsageError } from '../base/errors.ts';
import { TOPOLOGY_DEFAULTS, type TopologyOptions } from '../topology/index.ts';
import { RUN_DEFAULTS, type RunOptions } from './run-options.ts';

export function topologyFor(spec: ScenarioSpec | undefined, opts: RunOptions, unsafe: string[], log: (l: string) => void): TopologyOptions {
  if (opts.target) {
    const local = [unsafe.length ? '--unsafe' : '', opts.instances !== undefined ? '--instances' : '', opts.router !== undefined ? '--router' : '', opts.store !== undefined ? '--store' : ''].filter(Boolean);
    if (local.length) throw new UsageError(`${local.join(', ')} shape the embedded topology; with --target the backend is yours, so they do not apply. Drop ${local.length > 1 ? 'them' : 'it'} or drop --target.`);
    return { provider: 'external', external: { routerUrl: opts.target, toxiproxyUrl: opts.toxiproxyUrl, redisUrl: opts.redisUrl }, log };
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
    store: opts.store,
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
  return `${t.store ?? TOPOLOGY_DEFAULTS.store}, fault proxy, ${n} instance${n === 1 ? '' : 's'} behind a ${t.router} router${unsafe.length ? ` (unsafe: ${unsafe.join(',')})` : ''}`;
}
