/**
 * Turns a node-target bundle into per-VU script instances. The bundle is compiled ONCE into a
 * function; calling it runs the script's init code with a VU's own `require` (k6 modules bound to
 * that VU), so every VU has its own module-level state, as each k6 VU has its own JS runtime.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { UsageError } from '../base/errors.ts';
import type { Bundle } from './bundle.ts';
import { registerBundle } from './source-positions.ts';
import { createCore } from './k6/core.ts';
import { crypto } from './k6/crypto.ts';
import { encoding } from './k6/encoding.ts';
import { html } from './k6/html.ts';
import { createExecution } from './k6/execution.ts';
import { createHttp } from './k6/http.ts';
import { createMetrics } from './k6/metrics.ts';
import { createTimers } from './k6/timers.ts';
import { UnsupportedFeatureError } from './k6/unsupported.ts';
import type { ScriptExports, VU } from './vu.ts';

const PARAMS = ['require', 'module', 'exports', '__ENV', '__VU', '__stateproof_ctx', 'open', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

type Factory = (...args: unknown[]) => void;

const asModule = <T extends object>(m: T) => ({ __esModule: true, default: m, ...m });

/** k6 logs console output to stderr with a level, not to stdout (which carries the summary). */
function k6Console(vu: VU) {
  const line = (level: string) => (...args: unknown[]) => {
    const text = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
    process.stderr.write(`${level}[${String(Math.round(vu.run.elapsedMs / 1000)).padStart(4, '0')}] ${text}  source=console\n`);
  };
  return { log: line('INFO'), info: line('INFO'), debug: line('DEBU'), warn: line('WARN'), error: line('ERRO') };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export class Script {
  private readonly factory: Factory;
  private readonly dir: string;

  constructor(bundle: Bundle) {
    if (bundle.target !== 'node') throw new Error('the built-in engine runs node-target bundles');
    this.dir = path.dirname(bundle.sourcePath);
    try {
      this.factory = vm.compileFunction(bundle.code, PARAMS, { filename: bundle.sourcePath }) as Factory;
      registerBundle(bundle.sourcePath, bundle.code);
    } catch (e) {
      throw new UsageError(`cannot compile ${bundle.sourcePath}: ${(e as Error).message}`);
    }
  }

  /** Runs the init context for `vu` and returns the script's exports. */
  instantiate(vu: VU, env: Record<string, string>): ScriptExports {
    const timers = createTimers(vu);
    vu.onInterrupt = timers.clearAll;
    const modules: Record<string, unknown> = {
      k6: asModule(createCore(vu)),
      'k6/http': asModule(createHttp(vu)),
      'k6/metrics': asModule(createMetrics(vu)),
      'k6/execution': asModule(createExecution(vu)),
      'k6/timers': asModule({ setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, setInterval: timers.setInterval, clearInterval: timers.clearInterval }),
      'k6/encoding': asModule(encoding),
      'k6/crypto': asModule(crypto),
      'k6/html': asModule(html),
    };
    const require = (name: string): unknown => {
      const m = modules[name];
      if (m === undefined) throw new UnsupportedFeatureError(`module "${name}"`);
      return m;
    };
    const open = (file: string, mode?: string): string | ArrayBuffer => {
      const full = path.resolve(this.dir, file);
      const buf = readFileSync(full);
      return mode === 'b' ? buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) : buf.toString('utf8');
    };
    const module = { exports: {} as ScriptExports };
    vu.env = env;
    this.factory(require, module, module.exports, env, vu.id, vu.ctx, open, k6Console(vu), timers.setTimeout, timers.clearTimeout, timers.setInterval, timers.clearInterval);
    return module.exports;
  }
}
