/**
 * Reads a scenario's `stateproof` export (scenarios/lib/spec.ts) without running any load
 * (engine/init-exports.ts). A user's script without the export gets none.
 */
import { UsageError } from '../base/errors.ts';
import { readInitExports } from '../engine/init-exports.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';

export async function loadSpec(scriptPath: string, env: Record<string, string>): Promise<ScenarioSpec | undefined> {
  return (await loadSpecAndOptions(scriptPath, env, false)).spec;
}

/** The spec and, when asked, the k6 `options` the same profile gives (one bundle, one evaluation). */
export async function loadSpecAndOptions(scriptPath: string, env: Record<string, string>, withOptions = true): Promise<{ spec: ScenarioSpec | undefined; options: Record<string, unknown> | undefined }> {
  const exports = await readInitExports(scriptPath, env, withOptions ? ['stateproof', 'options'] : ['stateproof']);
  const spec = exports.stateproof;
  const options = exports.options as Record<string, unknown> | undefined;
  if (spec === undefined) return { spec: undefined, options };
  if (typeof spec !== 'object' || spec === null || typeof (spec as ScenarioSpec).name !== 'string') {
    throw new UsageError(`${scriptPath}: the 'stateproof' export must be a scenario spec object (see scenarios/lib/spec.ts)`);
  }
  return { spec: spec as ScenarioSpec, options };
}
