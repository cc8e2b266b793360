/**
 * The contract adapters shipped under backends/: which stores each one runs on, and where its
 * launcher and profile live. One list, so `run --backend`, `scorecard` and the tests agree on it.
 */
import { fileURLToPath } from 'node:url';
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';
import type { StoreKind } from '../topology/store-kind.ts';

export interface AdapterInfo {
  name: string;
  /** The stores the library itself supports here; the first is the default. */
  stores: readonly StoreKind[];
  /** backends/<name>/main.ts: started as `node --import tsx <main> --store-url … --port 0`. */
  main: string;
  /** backends/<name>/stateproof.backend.json: the declarations the run judges it by. */
  profile: string;
}

const root = fileURLToPath(new URL('../../backends/', import.meta.url));

function adapter(name: string, stores: readonly StoreKind[]): AdapterInfo {
  return { name, stores, main: `${root}${name}/main.ts`, profile: `${root}${name}/stateproof.backend.json` };
}

export const ADAPTERS: readonly AdapterInfo[] = [
  adapter('langgraph-postgres', ['postgres']),
  adapter('mastra-postgres', ['postgres']),
  adapter('langchain-redis-history', ['redis', 'valkey']),
  adapter('langchain-ioredis-history', ['redis', 'valkey']),
];

/** The name a scorecard and a run use for the service this repository ships. */
export const REFERENCE_BACKEND = 'reference';

export function adapterNamed(name: string, flag = '--backend'): AdapterInfo {
  const found = ADAPTERS.find((a) => a.name === name);
  if (found) return found;
  const names = [REFERENCE_BACKEND, ...ADAPTERS.map((a) => a.name)];
  throw new UsageError(`${flag}: unknown backend '${name}'; backends: ${names.join(', ')}.${didYouMean(name, names)}`);
}
