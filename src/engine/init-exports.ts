/**
 * A script's init-stage exports (`options`, stateproof's `stateproof` spec) read without running
 * any load: the node bundle's init code runs once with inert stand-ins for k6's modules. Both are
 * plain data computed from __ENV, so nothing else is needed. Returned as plain-data copies: nothing
 * from the script's realm leaks out.
 */
import vm from 'node:vm';
import { UsageError } from '../base/errors.ts';
import { bundleScript } from './bundle.ts';

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

export async function readInitExports(scriptPath: string, env: Record<string, string>, names: readonly string[]): Promise<Record<string, unknown>> {
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
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = module.exports[name];
    if (v !== undefined) out[name] = plainCopy(v);
  }
  return out;
}

/** JSON's copy, except that a value JSON cannot carry (an inert stand-in) is left out. */
function plainCopy(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v) ?? 'null');
  } catch {
    return undefined;
  }
}
