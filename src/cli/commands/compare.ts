/** `stateproof compare <run> <run>...`: side by side, regressions against a baseline marked. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { COMPARE_DEFAULTS, compareResults } from '../../report/compare.ts';
import { renderCompareHtml, renderCompareMd, renderCompareText } from '../../report/compare-render.ts';
import { loadRun } from '../../report/load.ts';

export const help = `Usage: stateproof compare <run-dir> <run-dir>... [--baseline <run-dir>] [--fail-on-regression]
                          [--noise-pct 10] [--noise-floor-ms 1] [--out <dir>]

Puts runs of the same scenario (different backends or configurations) side by side: invariants,
latency percentiles per phase, time to recover per fault, memory per session, error rate. Each
figure is marked better or worse than the baseline when it differs by more than the noise
threshold. Percentiles resting on fewer than ${COMPARE_DEFAULTS.minTailSamples} samples beyond them, max latency and throughput
are shown but never count as regressions.

Options:
  --baseline <run-dir>     the run to compare against (default: the first run given)
  --fail-on-regression     exit 1 when any run is worse than the baseline (for CI gating)
  --noise-pct <n>          relative difference treated as noise (default ${COMPARE_DEFAULTS.noisePct})
  --noise-floor-ms <n>     latency differences below this are noise too (default ${COMPARE_DEFAULTS.noiseFloorMs})
  --out <dir>              where compare.md and compare.html go (default: beside the baseline run)

Examples:
  stateproof compare reports/store-outage-a reports/store-outage-b
  stateproof compare reports/pr-run --baseline reports/main-run --fail-on-regression
`;

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got '${v}'.`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      baseline: { type: 'string' },
      'fail-on-regression': { type: 'boolean', default: false },
      'noise-pct': { type: 'string' },
      'noise-floor-ms': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const dirs = values.baseline ? [values.baseline, ...positionals.filter((p) => path.resolve(p) !== path.resolve(values.baseline!))] : positionals;
  if (dirs.length < 2) throw new UsageError(`compare needs at least two runs (got ${dirs.length}). Example: stateproof compare reports/run-a reports/run-b`);
  const runs = await Promise.all(dirs.map(loadRun));
  const comparison = compareResults(
    runs.map((r) => r.result),
    { baselineIndex: 0, noisePct: num('noise-pct', values['noise-pct'], COMPARE_DEFAULTS.noisePct), noiseFloorMs: num('noise-floor-ms', values['noise-floor-ms'], COMPARE_DEFAULTS.noiseFloorMs) },
  );
  const name = `compare-${runs.map((r) => r.result.runId).join('-vs-')}`.slice(0, 120);
  const outDir = path.resolve(values.out ?? path.join(path.dirname(runs[0]!.dir), name));
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'compare.md'), renderCompareMd(comparison));
  await writeFile(path.join(outDir, 'compare.html'), renderCompareHtml(comparison));
  process.stdout.write(renderCompareText(comparison) + `\nWrote ${path.join(outDir, 'compare.html')} and compare.md\n`);
  return values['fail-on-regression'] && comparison.regressions.length > 0 ? 1 : 0;
}
