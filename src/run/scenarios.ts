/**
 * The scenario catalogue: the names `stateproof run <name>` accepts, and where their k6 scripts
 * are. A path to any k6 script (.ts or .js) works too.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';

export const SCENARIOS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scenarios');

/** The built-in scenarios, in the order the suite runs them. */
export const SUITE_ORDER = ['store-outage', 'long-session', 'cross-instance', 'migration', 'failover', 'cluster-failover', 'resharding'] as const;

/**
 * Scenarios that start a 6-node cluster (and fault it as one): `suite` runs them when --only names
 * them, not by default, so a suite on another store or an external target is not refused halfway.
 */
export const CLUSTER_SCENARIOS: readonly string[] = ['cluster-failover', 'resharding'];

export function listScenarios(): string[] {
  const present = new Set(readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)));
  return [...SUITE_ORDER.filter((n) => present.has(n)), ...[...present].filter((n) => !(SUITE_ORDER as readonly string[]).includes(n)).sort()];
}

export interface ResolvedScenario {
  name: string;
  scriptPath: string;
  builtIn: boolean;
}

export function resolveScenario(nameOrPath: string): ResolvedScenario {
  const builtIn = path.join(SCENARIOS_DIR, `${nameOrPath}.ts`);
  if (/^[a-z0-9-]+$/.test(nameOrPath) && existsSync(builtIn)) return { name: nameOrPath, scriptPath: builtIn, builtIn: true };
  if (/\.(ts|js|mjs)$/.test(nameOrPath)) {
    const p = path.resolve(nameOrPath);
    if (!existsSync(p)) throw new UsageError(`no such script: ${nameOrPath}`);
    return { name: path.basename(p).replace(/\.(ts|js|mjs)$/, ''), scriptPath: p, builtIn: false };
  }
  throw new UsageError(`unknown scenario '${nameOrPath}'.${didYouMean(nameOrPath, listScenarios())} Scenarios: ${listScenarios().join(', ')}; or give the path of a k6 script (.ts or .js).`);
}
