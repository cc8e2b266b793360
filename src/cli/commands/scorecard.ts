/**
 * `stateproof scorecard`: the suite's scenarios against every backend × store pair, under the same
 * faults, and one report side by side (scorecard.html, scorecard.md, scorecard.json).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT_INTERRUPTED, UsageError } from '../../base/errors.ts';
import { didYouMean } from '../../base/suggest.ts';
import { ADAPTERS, REFERENCE_BACKEND } from '../../backend/adapters.ts';
import { parseDurationMs } from '../../engine/duration.ts';
import { listScenarios } from '../../run/scenarios.ts';
import { newRunId } from '../../run/run-scenario.ts';
import { STORE_KINDS } from '../../topology/store-kind.ts';
import { parseIntFlag } from '../config.ts';
import { progressReporter } from '../progress.ts';
import { shownPath } from '../shown-path.ts';
import { pairId, selectPairs } from '../../scorecard/pairs.ts';
import { runScorecard, THROUGHPUT_DEFAULT_MS } from '../../scorecard/run-scorecard.ts';
import { THROUGHPUT_CONNECTIONS } from '../../scorecard/aggregate.ts';
import { scorecardSummaryText } from '../../scorecard/render-text.ts';
import { interruptible } from '../interrupt.ts';
import { loadOverridesFrom } from './run.ts';

export const help = `Usage: stateproof scorecard [--backends a,b,…] [--stores …] [--profile ci|full] [--out DIR] [--only scenarios]

Runs the suite's scenarios (${listScenarios().join(', ')})
against each backend on each store it supports, under the same faults, then a short fault-free
throughput run per pair, and writes
one report: <out>/scorecard-<stamp>/scorecard.html, scorecard.md and scorecard.json (with the
library and store versions, the command, the date and the machine), each run's own report beside
them. Compare two scorecards with \`stateproof compare a/scorecard.json b/scorecard.json\`.

Backends: ${REFERENCE_BACKEND} (${STORE_KINDS.join(', ')}), ${ADAPTERS.map((a) => `${a.name} (${a.stores.join(', ')})`).join(', ')}

Options:
  --backends <list>       backends to score (default: all)
  --stores <list>         ${STORE_KINDS.join(', ')} (default: every store each backend supports); a pair a
                          backend cannot run is skipped with the reason
  --profile <ci|full>     ci: a few minutes per pair (default); full: the long versions. Not stress:
                          the scorecard compares backends under the same faults, not at capacity
                          (use \`stateproof run <scenario> --backend <name> --profile stress\`)
  --only <list>           run only these scenarios (comma-separated)
  --throughput <d|off>    length of the fault-free run (${THROUGHPUT_CONNECTIONS} connections) that measures turns/s per
                          pair (default ${THROUGHPUT_DEFAULT_MS.ci / 1000}s, ${THROUGHPUT_DEFAULT_MS.full / 1000}s with --profile full); off: not measured
  --vus <n>, --duration <d>   resize every scenario's executors, as for \`stateproof run\`
  --seed <n>, --engine <builtin|k6>, --k6 <path>   as for \`stateproof run\`
  --out <dir>             reports root (default reports)
  -q, --quiet             no live progress line (the per-run lines stay)
  -h, --help

Exit codes: 0 the scorecard is complete and the reference service held every invariant it was
judged by (a library's violation is a finding in the scorecard, not a failure of the command);
1 a run could not be made, or the reference service violated an invariant;
2 bad input (unknown backend or store, empty selection); 105 interrupted (Ctrl-C or SIGTERM: the
pairs done so far are written, marked interrupted).

Examples:
  stateproof scorecard
  stateproof scorecard --backends reference,langgraph-postgres --stores postgres
  stateproof scorecard --profile full --out published
  stateproof scorecard --backends reference --only cross-instance --duration 12s --throughput 3s
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      backends: { type: 'string' },
      stores: { type: 'string' },
      profile: { type: 'string' },
      only: { type: 'string' },
      throughput: { type: 'string' },
      vus: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      engine: { type: 'string' },
      k6: { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length) throw new UsageError(`scorecard takes no positional arguments; got ${positionals.join(' ')}. Pick backends with --backends a,b and stores with --stores x,y.`);
  const profile = values.profile ?? 'ci';
  if (profile === 'stress') throw new UsageError("--profile stress is not for the scorecard (it compares backends under the same faults at ci or full sizes); to drive one backend near capacity: stateproof run <scenario> --backend <name> --profile stress");
  if (profile !== 'ci' && profile !== 'full') throw new UsageError(`--profile: '${profile}' is not a profile; profiles: ci, full.${didYouMean(profile, ['ci', 'full'])}`);
  const engine = values.engine ?? 'builtin';
  if (engine !== 'builtin' && engine !== 'k6') throw new UsageError(`--engine: '${engine}' is not an engine; engines: builtin, k6.${didYouMean(engine, ['builtin', 'k6'])}`);
  const { pairs, skipped } = selectPairs({ backends: values.backends, stores: values.stores });
  const all = listScenarios();
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only && only.length === 0) throw new UsageError(`--only is empty; scenarios: ${all.join(', ')}.`);
  for (const name of only ?? []) if (!all.includes(name)) throw new UsageError(`--only: unknown scenario '${name}'; scenarios: ${all.join(', ')}.${didYouMean(name, all)}`);
  const throughputMs = values.throughput === 'off' ? null : values.throughput !== undefined ? parseDurationMs(values.throughput, '--throughput') : THROUGHPUT_DEFAULT_MS[profile];
  if (throughputMs !== null && throughputMs < 3_000) throw new UsageError(`--throughput ${values.throughput}: at least 3s (its first and last second are left out of the figure), or off.`);
  const load = loadOverridesFrom(values);
  const seed = parseIntFlag(values.seed, '--seed', 0, 2 ** 31 - 1);
  const { default: pkg } = await import('../../../package.json', { with: { type: 'json' } });

  const dir = path.resolve(values.out ?? 'reports', `scorecard-${newRunId('all').split('-all-')[0]}`);
  for (const s of skipped) process.stderr.write(`stateproof: skipping ${pairId(s)}: ${s.reason}\n`);
  process.stderr.write(`stateproof: scorecard of ${pairs.length} pair${pairs.length === 1 ? '' : 's'} (${pairs.map(pairId).join(', ')}) × ${(only ?? all).length} scenario${(only ?? all).length === 1 ? '' : 's'}${throughputMs === null ? '' : ' + throughput'}, profile ${profile}\n`);
  const stop = interruptible();
  let outcome;
  try {
    outcome = await runScorecard({
      pairs,
      skipped,
      scenarios: only ?? all,
      profile,
      dir,
      command: ['scorecard', ...argv],
      load,
      throughputMs,
      seed,
      engine,
      k6Path: values.k6,
      signal: stop.signal,
      backendOptions: (pair) => ({ adapter: pair.backend }),
      onStage: (line) => process.stderr.write(`${line}\n`),
      onRunProgress: (label) => (values.quiet ? undefined : progressReporter(label)),
      stateproofVersion: pkg.version,
    });
  } finally {
    stop.dispose();
  }
  const { scorecard, files } = outcome;
  process.stdout.write(`\n${scorecardSummaryText(scorecard)}\nscorecard: ${shownPath(files.html, values.out)} (and scorecard.md, scorecard.json)\n`);
  if (outcome.harnessError !== undefined) throw outcome.harnessError;
  if (scorecard.interrupted) return EXIT_INTERRUPTED;
  const incomplete = scorecard.pairs.some((p) => p.runs.some((r) => r.error) || (p.throughput?.error !== undefined));
  // The reference service must hold everything on every store: anything else is our own regression.
  const referenceFailed = scorecard.invariants.some((row) => scorecard.pairs.some((p) => p.backend === REFERENCE_BACKEND && ['violated', 'no-evidence'].includes(row.cells[p.id]?.status ?? '')));
  return incomplete || referenceFailed ? 1 : 0;
}
