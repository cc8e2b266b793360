/**
 * The engine's public face: bundle a k6 script, run it (built-in engine or real k6), merge HDR.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runBuiltin } from './builtin.ts';
import { runK6 } from './k6run/run.ts';
import { runWithRunners } from './runners/run-with-runners.ts';
import type { EngineResult, RunScriptOptions } from './types.ts';

export { bundleScript, type Bundle, type BundleTarget } from './bundle.ts';
export { EXIT as K6_EXIT_CODES } from './builtin.ts';
export { textSummary, legacySummaryExport } from './summary.ts';
export { formatFailureReasons } from './failure-reasons.ts';
export type * from './types.ts';

export async function runScript(opts: RunScriptOptions): Promise<EngineResult> {
  if (opts.runners !== undefined || opts.sinkListen) return runWithRunners(opts);
  return opts.engine === 'k6' ? runK6(opts) : runBuiltin(opts);
}

/** Writes what handleSummary returned, as k6 does: `stdout`/`stderr` to the streams, other keys to files. */
export async function writeSummaryOutputs(outputs: Record<string, string | ArrayBuffer>, cwd = process.cwd()): Promise<void> {
  for (const [key, value] of Object.entries(outputs)) {
    const data = typeof value === 'string' ? value : Buffer.from(value);
    if (key === 'stdout') process.stdout.write(data);
    else if (key === 'stderr') process.stderr.write(data);
    else await writeFile(path.resolve(cwd, key), data);
  }
}
