/**
 * `stateproof suite`: every built-in scenario against the embedded topology with the safe
 * reference service, one after another, and one combined report (index.html linking each
 * scenario's report, summary.md, junit.xml) under reports/suite-<stamp>/.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { progressReporter } from '../progress.ts';
import { listScenarios } from '../../run/scenarios.ts';
import { newRunId, runScenario, type RunOutcome } from '../../run/run-scenario.ts';
import { writeSuiteReport } from '../../report/suite.ts';
import { interruptible, loadOverridesFrom, printOutcome, runFlags, settingsFrom } from './run.ts';

export const help = `Usage: stateproof suite [options]

Runs every scenario (${listScenarios().join(', ')}) against the embedded topology and writes one
combined report: reports/suite-<stamp>/index.html (linking each scenario's report), summary.md
and junit.xml (one test case per invariant per scenario). Exit code 0 only if every invariant and
threshold of every scenario held.

Options:
  --profile <ci|full>     ci: a few minutes in all (default); full: the long versions
  --only <list>           run only these scenarios (comma-separated)
  --unsafe <list>         switch safeguards off on every instance (to see the suite fail)
  --vus <n>, --duration <d>   resize every scenario's executors, as for \`stateproof run\`
  --engine, --k6, --seed, --out, --config, -e    as for \`stateproof run\`
  -h, --help

Examples:
  stateproof suite
  stateproof suite --profile full --out ci-reports
  stateproof suite --only store-outage,migration
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...runFlags, only: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length) throw new UsageError(`suite takes no positional arguments; got ${positionals.join(' ')}. To run one scenario: stateproof run <scenario>`);
  for (const f of ['target', 'toxiproxy-url', 'redis-url', 'instances', 'router'] as const) {
    if (values[f] !== undefined) throw new UsageError(`--${f} is for \`stateproof run\`; the suite runs each scenario in the topology it declares`);
  }
  if (values.rate !== undefined) {
    throw new UsageError('--rate is for `stateproof run` on a scenario with arrival-rate executors (store-outage, migration, failover); the suite also runs VU-driven ones: use --vus');
  }
  const settings = await settingsFrom(values);
  const load = loadOverridesFrom(values);
  const all = listScenarios();
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) if (!all.includes(name)) throw new UsageError(`--only: unknown scenario '${name}'; scenarios: ${all.join(', ')}`);
  const scenarios = only ?? all;
  const suiteDir = path.resolve(settings.out ?? 'reports', `suite-${newRunId('all').split('-all-')[0]}`);
  const stop = interruptible();
  const outcomes: RunOutcome[] = [];
  const started = Date.now();
  try {
    for (const [i, name] of scenarios.entries()) {
      if (stop.signal.aborted) break;
      process.stderr.write(`\n[${i + 1}/${scenarios.length}] ${name}\n`);
      const progress = progressReporter(name);
      try {
        const outcome = await runScenario({
          scenario: name,
          profile: settings.profile,
          env: settings.env,
          engine: settings.engine,
          k6Path: settings.k6,
          unsafe: settings.unsafe,
          seed: settings.seed,
          outDir: suiteDir,
          load,
          signal: stop.signal,
          onProgress: (p) => progress.update(p),
        });
        progress.done();
        printOutcome(outcome);
        outcomes.push(outcome);
      } finally {
        progress.done();
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
  process.stdout.write(
    `\nsuite ${failed.length === 0 && skipped === 0 ? 'PASS' : 'FAIL'}: ${outcomes.length - failed.length}/${scenarios.length} scenarios held every invariant` +
      `${failed.length ? ` (failed: ${failed.join(', ')})` : ''}${skipped ? ` (${skipped} not run: interrupted)` : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
      `report: ${path.relative(process.cwd(), path.join(suiteDir, 'index.html'))}\n`,
  );
  return failed.length === 0 && skipped === 0 ? 0 : 1;
}
