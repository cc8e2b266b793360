/**
 * `stateproof run <scenario|script>`: one scenario against the embedded topology (or --target),
 * live progress, the verdict with each invariant, and the reports under reports/<run-id>/.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { loadConfigFile, parseEnvPairs, parseIntFlag, parseList, validateSettings, type Settings } from '../config.ts';
import { parseDurationMs } from '../../engine/duration.ts';
import { hasLoadOverrides, validateLoadOverrides, type LoadOverrides } from '../../engine/load-overrides.ts';
import { SAFEGUARDS } from '../../../reference-service/config.ts';
import { parseStoreKind, ROUTER_POLICIES, STORE_KINDS, TOPOLOGY_DEFAULTS } from '../../topology/index.ts';
import { progressReporter, type RunProgress } from '../progress.ts';
import { keepInvariants, parseInvariantList } from '../invariant-subset.ts';
import { shownPath } from '../shown-path.ts';
import { runVerdictJson, writeJson } from '../verdict-json.ts';
import { interruptible } from '../interrupt.ts';
import { writeReports } from '../../report/write.ts';
import { interruptionText, PARTIAL_NOTE, VERDICT_WORD, verdictKind } from '../../report/verdict.ts';
import { loadSpec } from '../../run/load-spec.ts';
import { listScenarios, resolveScenario } from '../../run/scenarios.ts';
import { runScenario, type RunOutcome } from '../../run/run-scenario.ts';
import { RUN_DEFAULTS } from '../../run/run-options.ts';
import { parseRunId, refuseUsedRunDir, RUN_ID_MAX } from '../../run/run-id.ts';
import { loadProfile, parseTargets, resolveProfile, type BackendProfile, type ResolvedProfile } from '../../backend/profile.ts';
import { knownInvariantNames } from '../../backend/invariant-names.ts';
import { ADAPTERS, adapterNamed, REFERENCE_BACKEND } from '../../backend/adapters.ts';
import { RUNNER_FLAGS_HELP, runnerFlags, runnerSettingsFrom } from '../runner-flags.ts';
import { checkRunnerCount } from '../../engine/runners/runner-count.ts';

export const help = `Usage: stateproof run <scenario | path/to/script.ts> [options]

Runs one scenario: starts the store, the fault proxy, the reference service and a router
(or uses --target), drives the k6 scenario with its fault plan, checks every invariant over the
recorded history, and writes reports/<run-id>/ (index.html, summary.md, junit.xml, result.json,
history.json, latency/*.hgrm).

Scenarios: ${listScenarios().join(', ')}

Options:
  -e, --env KEY=VALUE     __ENV for the script (repeatable)
  --profile <p>           ci: short (default); full: the long version; stress: near the reference
                          service's capacity on a quiet 2-core box (800–1,500 arrivals/s or 64–100
                          VUs, every fault; \`stateproof list --profile stress\` shows each scenario's)
  --engine <builtin|k6>   the built-in engine (default) or real k6 (needs k6 on PATH or --k6)
  --k6 <path>             the k6 binary to use with --engine k6
  --instances <n>         reference-service instances (default: the scenario's, else ${TOPOLOGY_DEFAULTS.instances})
  --router <policy>       ${ROUTER_POLICIES.join(' | ')} (default: the scenario's, else ${TOPOLOGY_DEFAULTS.router})
  --store <name>          ${STORE_KINDS.join(' | ')}: the store under the service (default ${TOPOLOGY_DEFAULTS.store};
                          with --backend, the adapter's own default)
  --backend <name>        the service the topology starts: ${REFERENCE_BACKEND} (default) or an adapter:
                          ${ADAPTERS.map((a) => `${a.name} (${a.stores.join('/')})`).join(',\n                          ')};
                          judged by its own backend profile, under the same faults (not with --unsafe)
  --unsafe <list>         switch safeguards off: ${SAFEGUARDS.join(',')}
  --seed <n>              seed of the fault plan's randomness
${RUNNER_FLAGS_HELP}
  --vus <n>               VUs of each of the scenario's executors (arrival-rate: the VU pool)
  --duration <d>          length of each executor, e.g. 30s or 2m (iteration-based ones: their
                          maxDuration; ramps keep their shape); the fault plan keeps its times
  --rate <n>              iterations started per second by each arrival-rate executor (a ramp's
                          peak); scenarios driven by VUs (cross-instance, long-session) take --vus
  --target <url>          an external backend implementing the contract (no topology is started);
                          repeat it (or give a,b,c) for several instances: the harness routes to them
  --backend-profile <f>   what the backend declares (instances, tenants, bounds, capabilities, metric
                          names, waivers); default ./stateproof.backend.json, or the config's 'backend'
  --toxiproxy-url <url>   with --target: a Toxiproxy its links go through (network faults)
  --redis-url <url>       with --target: its Redis (store faults, store snapshot)
  --out <dir>             reports root (default reports); paths print as you gave it (absolute stays absolute)
  --run-id <id>           fix the run's id in advance (default <stamp>-<scenario>-<4 random>): it names
                          <out>/<id>/ and the sink's path /runs/<id>/history, so runners written by
                          \`stateproof k8s --run-id <id>\` record into this run. 1–${RUN_ID_MAX} letters, digits,
                          '.', '_', '-'; refused when <out>/<id>/ already holds something
  --config <file>         settings file (default ./stateproof.config.json or .ts, if present)
  --invariants <list>     judge the run by these of the scenario's invariants only (comma-separated;
                          see \`stateproof list\`); the verdict and every report cover just these
  -q, --quiet             no live progress line
  --json                  the verdict as JSON on stdout: verdict, exitCode, runId, invariants (name,
                          holds, anomalies), thresholds, reasons, report paths (absolute). Nothing
                          else goes to stdout: the verdict lines, progress and logs go to stderr.
  -h, --help

Your own script runs as k6 would run it: its options follow k6's rules (options.duration: 10
or "10" is 10 milliseconds; vus must be at least 1). \`stateproof k6\` takes --duration/--vus
flags, which need a unit and at least 1 VU, as k6's do.

Exit codes: 0 every invariant and threshold held; 1 one failed; 2 usage or config error;
3 environment problem (e.g. redis-server missing); 4 stateproof itself failed (a harness bug:
one line names the crash log with the stack; the verdict is unknown); 105 interrupted (k6's code).

Ctrl-C (SIGINT) or SIGTERM stops the load, undoes the faults, checks the partial history and
writes every report with the verdict INTERRUPTED (invariants marked partial: they inform, they do
not decide), then stops what the run started; exit 105. A second Ctrl-C force-quits: every process
the run started is killed, exit 105, no report beyond what was already written. Past 500,000
operations (STATEPROOF_SPILL_AFTER=N) the history, and then the audit trail, move to disk in the run
directory and are checked a partition of sessions at a time, about 4,000 operations a partition
(STATEPROOF_PARTITION_ENTRIES=N; history.edn is then not written). A
history that reaches its memory bound (about 7 M operations at Node's default heap once spilled;
STATEPROOF_MAX_HISTORY=N sets it) stops the load the same way: INTERRUPTED, saying so, exit 105,
never out of heap.

Examples:
  stateproof run store-outage
  stateproof run store-outage --unsafe breaker        # must fail: the breaker is what it proves
  stateproof run cross-instance --router sticky
  stateproof run cross-instance --store postgres --unsafe cas   # must fail: no-lost-writes
  stateproof run cross-instance --backend langgraph-postgres     # LangGraph.js on PostgreSQL, same faults
  stateproof run store-outage --rate 500 --vus 50 --duration 1m
  stateproof run ./my-scenario.ts --target http://127.0.0.1:8080 -e STATEPROOF_TOKEN=secret
  stateproof run store-outage --invariants no-lost-writes,recovers-within-5s --json -q
  stateproof run cross-instance --profile stress                 # near capacity, every fault
  STATEPROOF_SINK_TOKEN=… stateproof run store-outage --run-id so-k8s-1 --sink-listen 0.0.0.0:7070
                                                      # the run \`stateproof k8s --run-id so-k8s-1\` wrote pods for
  # reports land in reports/<run-id>/, e.g. reports/20261201T220002Z-store-outage-rbql/
`;

export const runFlags = {
  env: { type: 'string', short: 'e', multiple: true },
  profile: { type: 'string' },
  engine: { type: 'string' },
  k6: { type: 'string' },
  instances: { type: 'string' },
  router: { type: 'string' },
  store: { type: 'string' },
  backend: { type: 'string' },
  unsafe: { type: 'string', multiple: true },
  seed: { type: 'string' },
  vus: { type: 'string' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  target: { type: 'string', multiple: true },
  'backend-profile': { type: 'string' },
  'toxiproxy-url': { type: 'string' },
  'redis-url': { type: 'string' },
  out: { type: 'string' },
  'run-id': { type: 'string' },
  config: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  ...runnerFlags,
} as const;

/** Flags over the config file over defaults, validated as one. */
export async function settingsFrom(values: Record<string, string | string[] | boolean | undefined>): Promise<Settings> {
  const fromFile = await loadConfigFile(values.config as string | undefined);
  const str = (k: string) => values[k] as string | undefined;
  const flags: Settings = {};
  if (str('profile') !== undefined) flags.profile = str('profile') as Settings['profile'];
  if (str('engine') !== undefined) flags.engine = str('engine') as Settings['engine'];
  if (str('k6') !== undefined) flags.k6 = str('k6');
  if (str('instances') !== undefined) flags.instances = parseIntFlag(str('instances'), '--instances', 1, 32);
  if (str('router') !== undefined) flags.router = parseList([str('router')!], ROUTER_POLICIES, '--router')[0];
  if (str('store') !== undefined) flags.store = parseStoreKind(str('store')!);
  if (str('backend') !== undefined) flags.backend = backendNameFlag(str('backend')!);
  if (values.unsafe !== undefined) flags.unsafe = parseList(values.unsafe as string[], SAFEGUARDS, '--unsafe');
  if (str('seed') !== undefined) flags.seed = parseIntFlag(str('seed'), '--seed', 0, 2 ** 31 - 1);
  if (values.target !== undefined) flags.target = parseTargets(values.target as string[]);
  if (str('toxiproxy-url') !== undefined) flags.toxiproxyUrl = str('toxiproxy-url');
  if (str('redis-url') !== undefined) flags.redisUrl = str('redis-url');
  if (str('out') !== undefined) flags.out = str('out');
  if (values.env !== undefined) flags.env = parseEnvPairs(values.env as string[]);
  const merged = { ...fromFile, ...flags, env: { ...fromFile.env, ...flags.env } };
  const settings = validateSettings(merged, 'flags');
  if (typeof settings.backend === 'string' && flags.backend === undefined) backendNameFlag(settings.backend, "the config's 'backend'");
  return settings;
}

/** --backend <name>: 'reference' or an adapter's name (did-you-mean on a typo). */
function backendNameFlag(name: string, flag = '--backend'): string {
  if (name !== REFERENCE_BACKEND) adapterNamed(name, flag);
  return name;
}

/** The adapter the run starts instead of the reference service: --backend, else the config's name; undefined for the reference service. */
export function adapterFrom(settings: Settings): string | undefined {
  return typeof settings.backend === 'string' && settings.backend !== REFERENCE_BACKEND ? settings.backend : undefined;
}

/**
 * The backend the run judges, when it is not the embedded topology: --backend-profile, else the
 * config's 'backend', else ./stateproof.backend.json, with --target's URLs as its instances. A
 * profile that lists no instances (and no --target) leaves the run on the embedded topology.
 */
export async function backendFrom(values: Record<string, unknown>, settings: Settings): Promise<ResolvedProfile | undefined> {
  const adapter = adapterFrom(settings);
  if (adapter !== undefined) {
    // The adapter's own profile judges it; ./stateproof.backend.json describes some other backend.
    if (values['backend-profile'] !== undefined) throw new UsageError(`--backend ${adapter} is judged by the profile it ships (${adapterNamed(adapter).profile}); drop --backend-profile.`);
    if (settings.target !== undefined) throw new UsageError(`--target is a backend you run yourself; --backend ${adapter} starts one. Drop one of them.`);
    return undefined;
  }
  const fromConfig = typeof settings.backend === 'string' ? undefined : settings.backend;
  const loaded = await loadProfile({ file: values['backend-profile'] as string | undefined, fromConfig }, knownInvariantNames());
  const declared: BackendProfile = { ...loaded?.profile };
  if (settings.target !== undefined) declared.instances = Array.isArray(settings.target) ? settings.target : [settings.target];
  if (declared.instances === undefined) {
    if (values['backend-profile'] !== undefined) throw new UsageError(`${values['backend-profile']} lists no instances: add "instances": ["http://host:port"] or give --target URL.`);
    return undefined;
  }
  return resolveProfile(declared, loaded?.source ?? '--target');
}

/** --vus, --duration, --rate as given, validated; undefined when none is. */
export function loadOverridesFrom(values: Record<string, string | string[] | boolean | undefined>): LoadOverrides | undefined {
  const str = (k: string) => values[k] as string | undefined;
  const load: LoadOverrides = {
    vus: parseIntFlag(str('vus'), '--vus', 1, 100_000),
    durationMs: str('duration') !== undefined ? parseDurationMs(str('duration'), '--duration') : undefined,
    ratePerSecond: parseIntFlag(str('rate'), '--rate', 1, 1_000_000),
  };
  if (!hasLoadOverrides(load)) return undefined;
  validateLoadOverrides(load);
  return load;
}

/** The verdict lines; `givenOut` is --out as the user typed it, so the report path reads as they gave it. */
export function printOutcome(outcome: RunOutcome, givenOut?: string, stream: NodeJS.WritableStream = process.stdout): void {
  const r = outcome.result;
  const kind = verdictKind(r.verdict);
  const lines = [`${VERDICT_WORD[kind]}  ${r.scenario.name} (${r.scenario.profile}, ${r.scenario.backend ?? 'reference'})${r.verdict.interrupted ? `: ${interruptionText(r.verdict.interrupted)}` : ''}`];
  if (kind === 'interrupted') lines.push(`  partial: ${PARTIAL_NOTE}`);
  for (const inv of r.invariants) {
    const word = STATUS_WORD[inv.status ?? (inv.holds ? 'held' : 'violated')];
    const detail =
      inv.status === 'not-applicable' || inv.status === 'waived'
        ? `: ${inv.reason}`
        : inv.holds
          ? inv.evidence ? `  (${inv.evidence})` : ''
          : inv.status === 'no-evidence' ? `: ${inv.evidence}` : `: ${inv.anomalies.length} anomal${inv.anomalies.length === 1 ? 'y' : 'ies'}`;
    lines.push(`  ${word}  ${inv.name}${detail}${inv.partial ? '  [partial]' : ''}`);
    if (inv.status !== 'no-evidence' && inv.status !== 'waived') for (const a of inv.anomalies.slice(0, 3)) lines.push(`          ${a.message}${a.ops.length ? `  [ops ${a.ops.slice(0, 5).join(', ')}]` : ''}`);
  }
  for (const t of r.thresholds) lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'}  threshold ${t.metric} ${t.expression}${t.observed ? ` (observed ${t.observed})` : ''}${kind === 'interrupted' ? '  [partial]' : ''}`);
  const skipped = (r.config.skippedFaults as string[] | undefined) ?? [];
  const unchecked = (r.config.uncheckedInvariants as string[] | undefined) ?? [];
  if (skipped.length) lines.push(`  not injected (no access to the target): ${skipped.join(', ')}`);
  if (unchecked.length) lines.push(`  not checked (no access to the witness): ${unchecked.join(', ')}`);
  const notSelected = (r.config.notSelectedInvariants as string[] | undefined) ?? [];
  if (notSelected.length) lines.push(`  not judged (not in --invariants): ${notSelected.join(', ')}`);
  const m = r.metrics;
  const refused = m.byStatus['503'] ?? 0;
  lines.push(
    `  ${m.totals.count} operations, ${m.throughputPerSec.toFixed(0)}/s, errors ${(m.errorRate * 100).toFixed(1)}%` +
      `${refused ? ` (${refused} refused as 503: not made durable, may or may not have applied)` : ''}, degraded ${m.totals.degraded}`,
  );
  lines.push(`  report: ${shownPath(path.join(outcome.runDir, 'index.html'), givenOut)}`);
  stream.write(lines.join('\n') + '\n');
}

const STATUS_WORD = { held: 'ok    ', violated: 'FAIL  ', 'not-applicable': 'n/a   ', waived: 'waived', 'no-evidence': 'NO EVIDENCE' } as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...runFlags, invariants: { type: 'string', multiple: true } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(`run takes one scenario name or script path; got ${positionals.length ? positionals.join(' ') : 'none'}. Scenarios: ${listScenarios().join(', ')}`);
  const settings = await settingsFrom(values);
  const runId = values['run-id'] !== undefined ? parseRunId(values['run-id'] as string) : undefined;
  if (runId !== undefined) refuseUsedRunDir(path.resolve(settings.out ?? RUN_DEFAULTS.outDir, runId), runId, shownPath(path.resolve(settings.out ?? RUN_DEFAULTS.outDir, runId), settings.out));
  // Checked before anything starts: a typo must not cost a whole run.
  let chosen: string[] | undefined;
  if (values.invariants !== undefined) {
    const resolved = resolveScenario(positionals[0]!);
    const spec = await loadSpec(resolved.scriptPath, { STATEPROOF_PROFILE: settings.profile ?? RUN_DEFAULTS.profile, ...settings.env });
    chosen = parseInvariantList(values.invariants, resolved.name, spec?.invariants);
  }
  const load = loadOverridesFrom(values);
  const runnerSettings = runnerSettingsFrom(values);
  if (runnerSettings.runners !== undefined) {
    // Before the topology starts: a count the scenario cannot split must not cost a whole start-up.
    const resolved = resolveScenario(positionals[0]!);
    await checkRunnerCount({ scriptPath: resolved.scriptPath, env: { STATEPROOF_PROFILE: settings.profile ?? RUN_DEFAULTS.profile, ...settings.env }, ...(load ? { load } : {}) }, runnerSettings.runners);
  }
  const stop = interruptible();
  const progress = values.quiet ? undefined : progressReporter(positionals[0]!);
  try {
    let outcome = await runScenario({
      scenario: positionals[0]!,
      profile: settings.profile,
      env: settings.env,
      engine: settings.engine,
      k6Path: settings.k6,
      instances: settings.instances,
      router: settings.router,
      store: settings.store,
      adapter: adapterFrom(settings),
      unsafe: settings.unsafe,
      seed: settings.seed,
      backend: await backendFrom(values, settings),
      toxiproxyUrl: settings.toxiproxyUrl,
      redisUrl: settings.redisUrl,
      outDir: settings.out,
      ...(runId !== undefined ? { runId } : {}),
      load,
      ...runnerSettings,
      signal: stop.signal,
      ...(progress ? { onProgress: (p: RunProgress) => progress.update(p) } : {}),
    });
    progress?.done();
    if (chosen) outcome = await judgeBySubset(outcome, chosen);
    // With --json the verdict lines go to stderr: stdout carries the one JSON document.
    printOutcome(outcome, settings.out, values.json ? process.stderr : process.stdout);
    if (values.json) writeJson(runVerdictJson(outcome.result, outcome.runDir, outcome.exitCode));
    return outcome.exitCode;
  } finally {
    progress?.done();
    stop.dispose();
  }
}

/** The run judged by the chosen invariants only, with its reports written again to say so. */
export async function judgeBySubset(outcome: RunOutcome, names: readonly string[]): Promise<RunOutcome> {
  const result = keepInvariants(outcome.result, names);
  await writeReports(result, outcome.runDir);
  return { ...outcome, result, exitCode: result.verdict.exitCode };
}
