/**
 * Loads a stateproof.config.ts (or .js/.mjs) the way scenarios are loaded: esbuild bundles it to
 * one ESM file, which is imported from a temp directory and removed. Importing the file in place
 * would let Node decide its module type from the nearest package.json, and a .ts file in a folder
 * without "type": "module" then fails (ERR_REQUIRE_CYCLE_MODULE) before the config is read.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { UsageError } from '../base/errors.ts';

export async function importConfigModule(file: string): Promise<unknown> {
  const name = path.basename(file);
  const url = pathToFileURL(file).href;
  let code: string;
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      // The bundle runs from a temp dir: paths the config computes from its own location must
      // still point beside the config, and bundled CommonJS dependencies need a require.
      define: { 'import.meta.url': JSON.stringify(url), 'import.meta.dirname': JSON.stringify(path.dirname(file)), 'import.meta.filename': JSON.stringify(file) },
      banner: { js: `import { createRequire as __stateproofCreateRequire } from 'node:module'; const require = __stateproofCreateRequire(${JSON.stringify(url)});` },
    });
    code = result.outputFiles[0]!.text;
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${name}:${first.location.line}:${first.location.column}: ` : `${name}: `;
    throw new UsageError(`cannot read ${where}${first?.text ?? String(e)}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-config-'));
  try {
    const out = path.join(dir, 'config.mjs');
    await writeFile(out, code);
    try {
      return ((await import(pathToFileURL(out).href)) as { default?: unknown }).default;
    } catch (e) {
      throw new UsageError(`${name} threw while loading: ${(e as Error).message ?? String(e)}`, { cause: e });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
