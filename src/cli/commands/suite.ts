/**
 * `stateproof suite`: every built-in scenario against the embedded topology with the safe
 * reference service, one after another, and one combined report (index.html linking each
 * scenario's report, summary.md, junit.xml) under reports/suite-<stamp>/.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT_INTERRUPTED, UsageError } from '../../base/errors.ts';
import { didYouMean } from '../../base/suggest.ts';
import { progressReporter, type RunProgress } from '../progress.ts';
import { shownPath } from '../shown-path.ts';
import { runVerdictJson, writeJson } from '../verdict-json.ts';
import { CLUSTER_SCENARIOS, listScenarios, resolveScenario } from '../../run/scenarios.ts';
import { loadSpec } from '../../run/load-spec.ts';
import { RUN_DEFAULTS } from '../../run/run-options.ts';
import { adapterOf, adapterRunRefusal, adapterStore } from '../../run/adapter-run.ts';
import { newRunId, runScenario, type RunOutcome } from '../../run/run-scenario.ts';
import { suiteVerdict, writeSuiteReport } from '../../report/suite.ts';
import { VERDICT_WORD } from '../../report/verdict.ts';
import { interruptible } from '../interrupt.ts';
import { runnerSettingsFrom } from '../runner-flags.ts';
import { checkRunnerCount } from '../../engine/runners/runner-count.ts';
import { TOPOLOGY_DEFAULTS } from '../../topology/index.ts';
import { adapterFrom, backendFrom, loadOverridesFrom, printOutcome, runFlags, settingsFrom } from './run.ts';

export const help = `Usage: stateproof suite [options]

Runs every scenario (${listScenarios().filter((n) => !CLUSTER_SCENARIOS.includes(n)).join(', ')}; the cluster ones,
${CLUSTER_SCENARIOS.join(', ')}, with --only) against the embedded topology and writes one
combined report: reports/suite-<stamp>/index.html (linking each scenario's report), summary.md
and junit.xml (one test case per invariant per scenario). Exit code 0 only if every invariant and
threshold of every scenario held; 1 if one failed; 105 if Ctrl-C (SIGINT) or SIGTERM interrupted
the suite: the scenario running is cut short and reported as for \`stateproof run\` (verdict
INTERRUPTED, invariants partial), the ones after it are listed as not run, and the suite report is
written. A second Ctrl-C force-quits (everything started is killed; exit 105).

Options:
  --profile <p>           ci: a few minutes in all (default); full: the long versions; stress: each
                          scenario near the reference service's measured capacity (see
                          \`stateproof list --profile stress\`)
  --only <list>           run only these scenarios (comma-separated)
  --unsafe <list>         switch safeguards off on every instance (to see the suite fail)
  --store <name>          redis | valkey | postgres: the store under the service (default redis)
  --vus <n>, --duration <d>   resize every scenario's executors, as for \`stateproof run\`
  --engine, --k6, --seed, --out, --config, -e    as for \`stateproof run\`
  --runners, --sink-listen                      as for \`stateproof run\`, for each scenario
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
  if (values['run-id'] !== undefined) throw new UsageError('--run-id is for `stateproof run`: the suite gives each scenario its own run id (and writes them under one suite directory)');
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
  const runnerSettings = runnerSettingsFrom(values);
  const all = listScenarios();
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of only ?? []) if (!all.includes(name)) throw new UsageError(`--only: unknown scenario '${name}'; scenarios: ${all.join(', ')}.${didYouMean(name, all)}`);
  // On an adapter, the scenarios that need the reference service's internals (migration) do not
  // apply; named with --only, they are refused as \`run\` refuses them.
  const adapter = adapterOf(adapterFrom(settings));
  const notApplicable: Array<{ scenario: string; reason: string }> = [];
  if (adapter && !only) {
    const env = { STATEPROOF_PROFILE: settings.profile ?? RUN_DEFAULTS.profile, STATEPROOF_STORE: adapterStore(adapter, settings.store), ...settings.env };
    for (const name of all.filter((n) => !CLUSTER_SCENARIOS.includes(n))) {
      const reason = adapterRunRefusal(adapter, await loadSpec(resolveScenario(name).scriptPath, env));
      if (reason) notApplicable.push({ scenario: name, reason });
    }
  }
  for (const n of notApplicable) process.stderr.write(`stateproof: not running ${n.scenario}: ${n.reason}\n`);
  const scenarios = (only ?? all.filter((n) => !CLUSTER_SCENARIOS.includes(n))).filter((name) => !notApplicable.some((n) => n.scenario === name));
  if (runnerSettings.runners !== undefined) {
    // Every scenario's split is checked before the first topology starts: a count that one of
    // them cannot split must not surface minutes into the suite.
    const env = { STATEPROOF_PROFILE: settings.profile ?? RUN_DEFAULTS.profile, STATEPROOF_STORE: adapter ? adapterStore(adapter, settings.store) : (settings.store ?? TOPOLOGY_DEFAULTS.store), ...settings.env };
    for (const name of scenarios) {
      try {
        await checkRunnerCount({ scriptPath: resolveScenario(name).scriptPath, env, ...(load ? { load } : {}) }, runnerSettings.runners);
      } catch (e) {
        if (e instanceof UsageError) throw new UsageError(`${e.message.replace('the scenario runs', `${name} runs`)}; the suite runs every scenario with the same --runners (or pick scenarios with --only)`);
        throw e;
      }
    }
  }
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
          adapter: adapterFrom(settings),
          unsafe: settings.unsafe,
          seed: settings.seed,
          backend,
          toxiproxyUrl: settings.toxiproxyUrl,
          redisUrl: settings.redisUrl,
          outDir: suiteDir,
          load,
          ...runnerSettings,
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
  const notRun = scenarios.slice(outcomes.length);
  await writeSuiteReport(
    outcomes.map((o) => o.result),
    suiteDir,
    { notRun },
  );
  const failed = outcomes.filter((o) => o.exitCode !== 0 && !o.result.verdict.interrupted).map((o) => o.result.scenario.name);
  const kind = suiteVerdict(outcomes.map((o) => o.result), notRun);
  const exitCode = kind === 'interrupted' ? EXIT_INTERRUPTED : kind === 'pass' ? 0 : 1;
  if (values.json) {
    writeJson({
      verdict: kind,
      exitCode,
      scenarios: outcomes.map((o) => runVerdictJson(o.result, o.runDir, o.exitCode)),
      failed,
      notRun,
      notApplicable,
      report: { dir: suiteDir, html: path.join(suiteDir, 'index.html'), summary: path.join(suiteDir, 'summary.md'), junit: path.join(suiteDir, 'junit.xml') },
    });
    return exitCode;
  }
  process.stdout.write(
    `\nsuite ${VERDICT_WORD[kind]}: ${outcomes.filter((o) => o.exitCode === 0).length}/${scenarios.length} scenarios held every invariant` +
      `${failed.length ? ` (failed: ${failed.join(', ')})` : ''}${kind === 'interrupted' ? ` (interrupted${notRun.length ? `; not run: ${notRun.join(', ')}` : ''})` : ''}` +
      `${notApplicable.length ? ` (not applicable to ${adapter!.name}: ${notApplicable.map((n) => n.scenario).join(', ')})` : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
      `report: ${shownPath(path.join(suiteDir, 'index.html'), settings.out)}\n`,
  );
  return exitCode;
}
