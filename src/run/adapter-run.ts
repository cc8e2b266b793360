/**
 * A run of a contract adapter (backends/<name>) in the local topology: the adapter's processes in
 * the reference service's place, on the same store, links and faults, judged by the adapter's own
 * profile. What only the reference service has (its safeguard switches, schema versions, seeded v1
 * sessions, its flags) is refused before anything starts, with the reason.
 *
 *   --backend <name> ─▶ adapterNamed ─▶ adapterRunRefusal (scenario) ─▶ adapterProfile ─▶ adapterTopology
 */
import { readFile } from 'node:fs/promises';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { UsageError } from '../base/errors.ts';
import { adapterNamed, REFERENCE_BACKEND, type AdapterInfo } from '../backend/adapters.ts';
import { knownInvariantNames } from '../backend/invariant-names.ts';
import { parseProfile, resolveProfile, type ResolvedProfile } from '../backend/profile.ts';
import { TOPOLOGY_DEFAULTS, type StoreKind, type TopologyOptions } from '../topology/index.ts';
import { RUN_DEFAULTS, type RunOptions } from './run-options.ts';

/** The adapter a run asks for; undefined for the reference service (the default). */
export function adapterOf(name: string | undefined): AdapterInfo | undefined {
  return name === undefined || name === REFERENCE_BACKEND ? undefined : adapterNamed(name);
}

/** The store an adapter runs on: the one asked for if the library supports it, else its default. */
export function adapterStore(adapter: AdapterInfo, store: StoreKind | undefined): StoreKind {
  if (store === undefined) return adapter.stores[0]!;
  if (!adapter.stores.includes(store)) {
    throw new UsageError(`--store ${store}: ${adapter.name} runs on ${adapter.stores.join(' or ')} only (its library's store); drop --store or pick ${adapter.stores.join(' or ')}.`);
  }
  return store;
}

/**
 * Why a scenario cannot run on an adapter, or undefined when it can: the parts of it that need the
 * reference service's internals. For the scorecard too, which shows the reason instead of a cell.
 */
export function adapterRunRefusal(adapter: AdapterInfo, spec: ScenarioSpec | undefined): string | undefined {
  if (!spec) return undefined;
  const needs: string[] = [];
  if (spec.seed?.v1Sessions) needs.push(`seeds ${spec.seed.v1Sessions} sessions in its v1 layout`);
  const versioned = spec.plan.faults.filter((f) => {
    const fault = f.fault as { type?: unknown; schemaVersion?: unknown } | undefined;
    return (fault?.type === 'restart' || fault?.type === 'rolling_restart') && fault.schemaVersion !== undefined;
  });
  const pinned = Array.isArray(spec.topology.instances) && spec.topology.instances.some((i) => i.schemaVersion !== undefined);
  if (versioned.length) needs.push(`rolls instances through its schema versions in ${versioned.map((f) => String(f.id ?? f.target)).join(', ')}`);
  else if (pinned) needs.push('starts instances on given schema versions');
  if (!needs.length) return undefined;
  return `${spec.name} needs the reference service's internals (it ${needs.join(' and ')}); ${adapter.name} runs its library as it is. Run ${spec.name} with --backend ${REFERENCE_BACKEND}.`;
}

/** The flags that shape the reference service or an external backend, refused with an adapter. */
export function checkAdapterOptions(adapter: AdapterInfo, opts: RunOptions): void {
  if (opts.unsafe?.length) throw new UsageError(`--unsafe switches off the reference service's safeguards; ${adapter.name} runs its library as it is, with no switches. Drop --unsafe or use --backend ${REFERENCE_BACKEND}.`);
  if (opts.target !== undefined) throw new UsageError(`--target is a backend you run yourself; --backend ${adapter.name} starts one. Drop one of them.`);
  if (opts.backend !== undefined) throw new UsageError(`--backend ${adapter.name} is judged by its own profile (${adapter.profile}); drop --backend-profile (or the config's profile) for this run.`);
}

/** The adapter's stateproof.backend.json, resolved as any profile is (bounds, capabilities, waivers, versions). */
export async function adapterProfile(adapter: AdapterInfo): Promise<ResolvedProfile> {
  const raw = JSON.parse(await readFile(adapter.profile, 'utf8')) as unknown;
  return resolveProfile(parseProfile(raw, adapter.profile, knownInvariantNames()), adapter.profile);
}

/** The local topology of the scenario, with the adapter's processes as its instances. */
export function adapterTopology(spec: ScenarioSpec | undefined, opts: RunOptions, adapter: AdapterInfo, profile: ResolvedProfile, log: (l: string) => void): TopologyOptions {
  const t = spec?.topology;
  const instances = opts.instances ?? (Array.isArray(t?.instances) ? t.instances.length : t?.instances) ?? TOPOLOGY_DEFAULTS.instances;
  return {
    provider: 'local',
    instances,
    router: opts.router ?? t?.router ?? TOPOLOGY_DEFAULTS.router,
    replica: t?.replica,
    aof: t?.aof,
    redisConfig: t?.redisConfig,
    store: adapterStore(adapter, opts.store),
    postgresFastStart: (opts.profile ?? RUN_DEFAULTS.profile) === 'ci',
    // The scenario's serviceArgs are reference-service flags; the adapter is configured by its profile.
    adapter: { name: adapter.name, main: adapter.main, windowTurns: profile.bounds.windowTurns },
    toxiproxyUrl: opts.toxiproxyUrl,
    log,
  };
}

/** The invariants whose witness an adapter does not have, each with the reason the report shows. */
export function adapterUnreachable(adapter: AdapterInfo): Record<string, string> {
  return {
    'audit-agrees': `${adapter.name} keeps no audit trail (the library has none)`,
    'store-agrees': `${adapter.name} stores the library's own layout; the harness reads the reference service's only`,
    'ttl-set': `${adapter.name} stores the library's own layout, whose keys the harness does not read; idle-expired measures expiry through the contract`,
  };
}
