/**
 * Which backend × store pairs a scorecard runs: each backend on each store it supports (the
 * reference service on all of them), narrowed by --backends and --stores. A pair the backend
 * cannot run is skipped with the reason, not refused; only an empty selection is an error.
 */
import { UsageError } from '../base/errors.ts';
import { ADAPTERS, adapterNamed, REFERENCE_BACKEND } from '../backend/adapters.ts';
import { parseStoreKind, STORE_KINDS, type StoreKind } from '../topology/store-kind.ts';

export interface Pair {
  backend: string;
  store: StoreKind;
}

export interface SkippedPair extends Pair {
  reason: string;
}

export const pairId = (p: Pair): string => `${p.backend}/${p.store}`;

export function backendNames(): string[] {
  return [REFERENCE_BACKEND, ...ADAPTERS.map((a) => a.name)];
}

/** The suite's scenarios run on one-node stores; a cluster runs its own two (resharding, cluster-failover). */
const SUITE_STORES: readonly StoreKind[] = ['redis', 'valkey', 'postgres'];

export function storesOf(backend: string): readonly StoreKind[] {
  return backend === REFERENCE_BACKEND ? SUITE_STORES : adapterNamed(backend, '--backends').stores;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
  return items;
}

/** Names checked before anything starts (a typo must not cost a run); pairs in a stable order. */
export function selectPairs(opts: { backends?: string; stores?: string }): { pairs: Pair[]; skipped: SkippedPair[] } {
  const backends = list(opts.backends) ?? backendNames();
  const stores = list(opts.stores)?.map((s) => parseStoreKind(s, '--stores'));
  if (backends.length === 0) throw new UsageError(`--backends is empty; backends: ${backendNames().join(', ')}.`);
  if (stores?.length === 0) throw new UsageError(`--stores is empty; stores: ${STORE_KINDS.join(', ')}.`);
  for (const b of backends) if (b !== REFERENCE_BACKEND) adapterNamed(b, '--backends');
  const pairs: Pair[] = [];
  const skipped: SkippedPair[] = [];
  for (const backend of backends) {
    const supported = storesOf(backend);
    for (const store of stores ?? supported) {
      if (supported.includes(store)) pairs.push({ backend, store });
      // Only a store the user named is worth a line: the default is each backend's own stores.
      else if (backend === REFERENCE_BACKEND) skipped.push({ backend, store, reason: `the suite's scenarios run on ${supported.join(', ')}; a cluster has its own (stateproof run resharding --store ${store}, or cluster-failover)` });
      else skipped.push({ backend, store, reason: `${backend} runs on ${supported.join(', ')} only (the library has no ${store} store here)` });
    }
  }
  if (pairs.length === 0) {
    throw new UsageError(
      `nothing to run: ${skipped.map((s) => `${pairId(s)} (${s.reason})`).join('; ')}. Pick a store each backend supports: ${backends.map((b) => `${b}: ${storesOf(b).join(',')}`).join('; ')}.`,
    );
  }
  return { pairs, skipped };
}
