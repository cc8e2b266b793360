/**
 * esbuild bundles of a k6 script (.ts or .js), two ways:
 *   target 'k6'   ESM with k6's modules (and remote https:// imports) left external: `k6 run` it.
 *   target 'node' CommonJS for the built-in engine: k6's modules stay `require("k6/http")` calls that
 *                 the engine answers per VU with its own implementations (src/engine/k6/), and
 *                 `__ITER` reads the VU's iteration counter.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { UsageError } from '../base/errors.ts';

export type BundleTarget = 'node' | 'k6';

export interface BundleOptions {
  target: BundleTarget;
  /** Also write the bundle here. */
  outFile?: string;
}

export interface Bundle {
  target: BundleTarget;
  code: string;
  /** The script's absolute path (for stack traces and relative open()). */
  sourcePath: string;
  outFile?: string;
}

/** Modules a k6 script may import from k6 itself; all are external in both bundles. */
export const K6_MODULE = /^k6(\/.*)?$/;

export async function bundleScript(scriptPath: string, options: BundleOptions): Promise<Bundle> {
  const sourcePath = path.resolve(scriptPath);
  const remote: esbuild.Plugin = {
    name: 'k6-remote-modules',
    setup(build) {
      build.onResolve({ filter: /^https?:\/\// }, (args) => {
        if (options.target === 'k6') return { path: args.path, external: true };
        return {
          errors: [{ text: `remote module "${args.path}" cannot be loaded by the built-in engine; vendor it into the repository or run with real k6 (--k6)` }],
        };
      });
      build.onResolve({ filter: K6_MODULE }, (args) => ({ path: args.path, external: true }));
    },
  };
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [sourcePath],
      bundle: true,
      write: false,
      format: options.target === 'k6' ? 'esm' : 'cjs',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      sourcemap: options.target === 'node' ? 'inline' : false,
      define: options.target === 'node' ? { __ITER: '__stateproof_ctx.iter' } : {},
      logLevel: 'silent',
      plugins: [remote],
    });
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const text = errors.length
      ? errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text)).join('\n')
      : String(e);
    throw new UsageError(`cannot bundle ${scriptPath}:\n${text}`);
  }
  const code = result.outputFiles![0]!.text;
  const bundle: Bundle = { target: options.target, code, sourcePath };
  if (options.outFile) {
    await mkdir(path.dirname(options.outFile), { recursive: true });
    await writeFile(options.outFile, code);
    bundle.outFile = options.outFile;
  }
  return bundle;
}
