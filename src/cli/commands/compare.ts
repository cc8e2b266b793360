/** `stateproof compare <run> <run>...`: side by side, regressions against a baseline marked. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { COMPARE_DEFAULTS, compareResults } from '../../report/compare.ts';
import { compareJson, renderCompareHtml, renderCompareMd, renderCompareText } from '../../report/compare-render.ts';
import { loadRun } from '../../report/load.ts';
import { samplesToBound } from '../../report/noise-bounds.ts';
import { diffScorecards, loadScorecard, renderDiffMd, renderDiffText, scorecardPath } from '../../scorecard/diff.ts';

export const help = `Usage: stateproof compare <run-dir> <run-dir>... [--baseline <run-dir>] [--fail-on-regression]
                          [--noise-pct ${COMPARE_DEFAULTS.noisePct}] [--noise-floor-ms ${COMPARE_DEFAULTS.noiseFloorMs}] [--out <dir>] [--json]

Puts runs of the same scenario (different backends or configurations) side by side: a short
headline table first (invariants held, p50 and p99 latency, error rate, throughput, time to
recover per fault, memory per session), then the regressions with their values (before → after
and the threshold), then every figure that moved. compare.md and compare.html hold all figures.

A figure is worse (or better) than the baseline only when the difference is both practical
(beyond --noise-pct of the baseline, and beyond its floor: --noise-floor-ms for latency, one
percentage point for error rate, one gap between operations for recovery) and larger than
sampling noise: the runs' ${COMPARE_DEFAULTS.confidence * 100}% intervals, taken from the HDR histograms' counts (order
statistics for a percentile, Wilson for an error rate), do not overlap. A figure that moved
beyond --noise-pct but not beyond those bounds is marked "noise", with the bound that held it.

Gated (a worse one is a regression): invariants, p99 per op and phase (when both runs have the
${samplesToBound(99)}+ samples a bounded p99 interval needs), error rate, time to recover, memory per session.
Shown but not gated, each with its reason: p50/p90 (context), p99.9 and max (too few samples
behind them), throughput (set by the scenario's arrival rate).

Options:
  --baseline <run-dir>     the run to compare against (default: the first run given)
  --fail-on-regression     exit 1 when any run is worse than the baseline (for CI gating)
  --noise-pct <n>          relative difference treated as noise (default ${COMPARE_DEFAULTS.noisePct})
  --noise-floor-ms <n>     latency differences below this are noise too (default ${COMPARE_DEFAULTS.noiseFloorMs})
  --out <dir>              where compare.md and compare.html go (default: beside the baseline run)
  --json                   print the comparison as JSON on stdout (messages go to stderr)

Two scorecards (scorecard.json, or the directories holding them) are compared as scorecards: the
cells that flipped (an invariant's status for a backend/store pair), the counts that moved
(anomalies, lost writes, duplicates, divergences, failed operations under a fault) and the
figures that moved beyond --noise-pct (p99 during a fault, time to recover, bytes per session,
growth, turns/s); "WORSE" marks a change for the worse, which --fail-on-regression exits 1 for.
compare-scorecards.md goes beside b (or into --out).

Examples:
  stateproof compare reports/<run-a> reports/<run-b>
  stateproof compare reports/scorecard-<a>/scorecard.json reports/scorecard-<b>/scorecard.json
  stateproof compare reports/<pr-run> --baseline reports/<main-run> --fail-on-regression --json > compare.json
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
      json: { type: 'boolean', default: false },
    },
  });
  const cards = await Promise.all(positionals.map(scorecardPath));
  if (cards.some((c) => c !== null)) return compareScorecards(positionals, cards, values);
  const dirs = values.baseline ? [values.baseline, ...positionals.filter((p) => path.resolve(p) !== path.resolve(values.baseline!))] : positionals;
  if (dirs.length < 2) throw new UsageError(`compare needs at least two runs (got ${dirs.length}). Example: stateproof compare reports/<run-a> reports/<run-b>`);
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
  const wrote = `Wrote ${path.join(outDir, 'compare.html')} and compare.md\n`;
  if (values.json) {
    process.stdout.write(JSON.stringify(compareJson(comparison), null, 2) + '\n');
    process.stderr.write(wrote);
  } else {
    process.stdout.write(renderCompareText(comparison) + '\n' + wrote);
  }
  return values['fail-on-regression'] && comparison.regressions.length > 0 ? 1 : 0;
}

async function compareScorecards(given: string[], cards: Array<string | null>, values: { baseline?: string; 'fail-on-regression'?: boolean; 'noise-pct'?: string; out?: string; json?: boolean }): Promise<number> {
  const notCard = given.filter((_, i) => cards[i] === null);
  if (notCard.length) throw new UsageError(`compare takes runs or scorecards, not both: ${notCard.join(', ')} ${notCard.length === 1 ? 'is not a' : 'are not'} scorecard.json. Compare two scorecards: stateproof compare a/scorecard.json b/scorecard.json`);
  if (cards.length !== 2) throw new UsageError(`compare of scorecards takes exactly two (a, then b); got ${cards.length}.`);
  if (values.baseline !== undefined) throw new UsageError('--baseline is for runs; with two scorecards the first one given is the baseline.');
  const [a, b] = await Promise.all(cards.map((c) => loadScorecard(c!)));
  const diff = diffScorecards(a!, b!, { tolerancePct: num('noise-pct', values['noise-pct'], COMPARE_DEFAULTS.noisePct) });
  const outDir = path.resolve(values.out ?? path.dirname(cards[1]!));
  await mkdir(outDir, { recursive: true });
  const md = path.join(outDir, 'compare-scorecards.md');
  await writeFile(md, renderDiffMd(diff));
  if (values.json) {
    process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
    process.stderr.write(`Wrote ${md}\n`);
  } else {
    process.stdout.write(renderDiffText(diff) + `\nWrote ${md}\n`);
  }
  return values['fail-on-regression'] && diff.changes.some((c) => c.worse) ? 1 : 0;
}
