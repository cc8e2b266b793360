/**
 * Reads a scenario's `stateproof` export (scenarios/lib/spec.ts) without running any load: the
 * node bundle's init code runs once with inert stand-ins for k6's modules. Specs are plain data
 * computed from __ENV, so nothing else is needed. A user's script without the export gets none.
 */
import vm from 'node:vm';
import { UsageError } from '../base/errors.ts';
import { bundleScript } from '../engine/bundle.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';

/** Anything: callable, constructible, every property another inert value. */
function inert(): unknown {
  const fn = function () {
    return inert();
  };
  return new Proxy(fn, {
    get: (_t, key) => (key === Symbol.toPrimitive ? () => 0 : key === 'then' ? undefined : inert()),
    apply: () => inert(),
    construct: () => inert() as object,
  });
}

export async function loadSpec(scriptPath: string, env: Record<string, string>): Promise<ScenarioSpec | undefined> {
  const spec = (await scriptExports(scriptPath, env)).stateproof;
  if (spec === undefined) return undefined;
  if (typeof spec !== 'object' || spec === null || typeof (spec as ScenarioSpec).name !== 'string') {
    throw new UsageError(`${scriptPath}: the 'stateproof' export must be a scenario spec object (see scenarios/lib/spec.ts)`);
  }
  // A plain-data copy: nothing from the script's realm leaks into the run.
  return JSON.parse(JSON.stringify(spec)) as ScenarioSpec;
}

/** The script's exports after its init code ran with inert k6 modules (plain data such as options and stateproof). */
export async function scriptExports(scriptPath: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const bundle = await bundleScript(scriptPath, { target: 'node' });
  const module = { exports: {} as Record<string, unknown> };
  const factory = vm.compileFunction(bundle.code, ['require', 'module', 'exports', '__ENV', '__VU', '__stateproof_ctx', 'open', 'console'], {
    filename: bundle.sourcePath,
  });
  try {
    factory(() => inert(), module, module.exports, { ...env }, 0, { iter: 0 }, () => '', { log() {}, info() {}, warn() {}, error() {}, debug() {} });
  } catch (e) {
    throw new UsageError(`cannot read the scenario's settings from ${scriptPath}: ${(e as Error).message}`);
  }
  return module.exports;
}
