/**
 * `stateproof suite`: every built-in scenario against the embedded topology with the safe
 * reference service, one after another, and one combined report (index.html linking each
 * scenario's report, summary.md, junit.xml) under reports/suite-<stamp>/.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { didYouMean } from '../../base/suggest.ts';
import { progressReporter, type RunProgress } from '../progress.ts';
import { shownPath } from '../shown-path.ts';
import { runVerdictJson, writeJson } from '../verdict-json.ts';
import { CLUSTER_SCENARIOS, listScenarios } from '../../run/scenarios.ts';
import { newRunId, runScenario, type RunOutcome } from '../../run/run-scenario.ts';
import { writeSuiteReport } from '../../report/suite.ts';
import { backendFrom, interruptible, loadOverridesFrom, printOutcome, runFlags, settingsFrom } from './run.ts';

export const help = `Usage: stateproof suite [options]

Runs every scenario (${listScenarios().filter((n) => !CLUSTER_SCENARIOS.includes(n)).join(', ')}; the cluster ones,
${CLUSTER_SCENARIOS.join(', ')}, with --only) against the embedded topology and writes one
combined report: reports/suite-<stamp>/index.html (linking each scenario's report), summary.md
and junit.xml (one test case per invariant per scenario). Exit code 0 only if every invariant and
threshold of every scenario held.

Options:
  --profile <ci|full>     ci: a few minutes in all (default); full: the long versions
  --only <list>           run only these scenarios (comma-separated)
  --unsafe <list>         switch safeguards off on every instance (to see the suite fail)
  --store <name>          redis | valkey | postgres: the store under the service (default redis)
  --vus <n>, --duration <d>   resize every scenario's executors, as for \`stateproof run\`
  --engine, --k6, --seed, --out, --config, -e    as for \`stateproof run\`
  -q, --quiet             no live progress lines
  --json                  the suite's verdict as JSON on stdout: verdict, exitCode, one entry per
                          scenario (as \`run --json\` prints it), failed, notRun, report paths
                          (absolute). Nothing else goes to stdout: verdict lines, progress, logs
                          go to stderr.
  -h, --help

Examples:
  stateproof suite
  stateproof suite --profile full --out ci-reports      # ci-reports/suite-20261201T220002Z/index.html
  stateproof suite --only store-outage,migration --json -q > verdict.json
  stateproof suite --store postgres
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...runFlags, only: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length) throw new UsageError(`suite takes no positional arguments; got ${positionals.join(' ')}. To run one scenario: stateproof run <scenario>`);
  for (const f of ['instances', 'router'] as const) {
    if (values[f] !== undefined) throw new UsageError(`--${f} is for \`stateproof run\`; the suite runs each scenario in the topology it declares`);
  }
  if (values.rate !== undefined) {
    throw new UsageError('--rate is for `stateproof run` on a scenario with arrival-rate executors (store-outage, migration, failover); the suite also runs VU-driven ones: use --vus');
  }
  const settings = await settingsFrom(values);
  // With --target or a backend profile, every scenario runs against that backend, judged by its profile.
  const backend = await backendFrom(values, settings);
  const load = loadOverridesFrom(values);
  const all = listScenarios();
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) if (!all.includes(name)) throw new UsageError(`--only: unknown scenario '${name}'; scenarios: ${all.join(', ')}.${didYouMean(name, all)}`);
  const scenarios = only ?? all.filter((n) => !CLUSTER_SCENARIOS.includes(n));
  const suiteDir = path.resolve(settings.out ?? 'reports', `suite-${newRunId('all').split('-all-')[0]}`);
  const stop = interruptible();
  const outcomes: RunOutcome[] = [];
  const started = Date.now();
  try {
    for (const [i, name] of scenarios.entries()) {
      if (stop.signal.aborted) break;
      process.stderr.write(`\n[${i + 1}/${scenarios.length}] ${name}\n`);
      const progress = values.quiet ? undefined : progressReporter(name);
      try {
        const outcome = await runScenario({
          scenario: name,
          profile: settings.profile,
          env: settings.env,
          engine: settings.engine,
          k6Path: settings.k6,
          store: settings.store,
          unsafe: settings.unsafe,
          seed: settings.seed,
          backend,
          toxiproxyUrl: settings.toxiproxyUrl,
          redisUrl: settings.redisUrl,
          outDir: suiteDir,
          load,
          signal: stop.signal,
          ...(progress ? { onProgress: (p: RunProgress) => progress.update(p) } : {}),
        });
        progress?.done();
        // With --json the verdict lines go to stderr: stdout carries the one JSON document.
        printOutcome(outcome, settings.out, values.json ? process.stderr : process.stdout);
        outcomes.push(outcome);
      } finally {
        progress?.done();
      }
    }
  } finally {
    stop.dispose();
  }
  await writeSuiteReport(
    outcomes.map((o) => o.result),
    suiteDir,
  );
  const failed = outcomes.filter((o) => o.exitCode !== 0).map((o) => o.result.scenario.name);
  const skipped = scenarios.length - outcomes.length;
  const exitCode = failed.length === 0 && skipped === 0 ? 0 : 1;
  if (values.json) {
    writeJson({
      verdict: exitCode === 0 ? 'pass' : 'fail',
      exitCode,
      scenarios: outcomes.map((o) => runVerdictJson(o.result, o.runDir, o.exitCode)),
      failed,
      notRun: scenarios.slice(outcomes.length),
      report: { dir: suiteDir, html: path.join(suiteDir, 'index.html'), summary: path.join(suiteDir, 'summary.md'), junit: path.join(suiteDir, 'junit.xml') },
    });
    return exitCode;
  }
  process.stdout.write(
    `\nsuite ${failed.length === 0 && skipped === 0 ? 'PASS' : 'FAIL'}: ${outcomes.length - failed.length}/${scenarios.length} scenarios held every invariant` +
      `${failed.length ? ` (failed: ${failed.join(', ')})` : ''}${skipped ? ` (${skipped} not run: interrupted)` : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
      `report: ${shownPath(path.join(suiteDir, 'index.html'), settings.out)}\n`,
  );
  return exitCode;
}
