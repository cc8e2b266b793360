/**
 * Reads a scenario's `stateproof` export (scenarios/lib/spec.ts) without running any load
 * (engine/init-exports.ts). A user's script without the export gets none.
 */
import { UsageError } from '../base/errors.ts';
import { readInitExports } from '../engine/init-exports.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';

export async function loadSpec(scriptPath: string, env: Record<string, string>): Promise<ScenarioSpec | undefined> {
  const spec = (await readInitExports(scriptPath, env, ['stateproof'])).stateproof;
  if (spec === undefined) return undefined;
  if (typeof spec !== 'object' || spec === null || typeof (spec as ScenarioSpec).name !== 'string') {
    throw new UsageError(`${scriptPath}: the 'stateproof' export must be a scenario spec object (see scenarios/lib/spec.ts)`);
  }
  return spec as ScenarioSpec;
}
