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
import { ROUTER_POLICIES, TOPOLOGY_DEFAULTS } from '../../topology/index.ts';
import { progressReporter } from '../progress.ts';
import { listScenarios } from '../../run/scenarios.ts';
import { runScenario, type RunOutcome } from '../../run/run-scenario.ts';

export const help = `Usage: stateproof run <scenario | path/to/script.ts> [options]

Runs one scenario: starts redis-server, the fault proxy, the reference service and a router
(or uses --target), drives the k6 scenario with its fault plan, checks every invariant over the
recorded history, and writes reports/<run-id>/ (index.html, summary.md, junit.xml, result.json,
history.json, latency/*.hgrm).

Scenarios: ${listScenarios().join(', ')}

Options:
  -e, --env KEY=VALUE     __ENV for the script (repeatable)
  --profile <ci|full>     ci: short (default); full: the long version
  --engine <builtin|k6>   the built-in engine (default) or real k6 (needs k6 on PATH or --k6)
  --k6 <path>             the k6 binary to use with --engine k6
  --instances <n>         reference-service instances (default: the scenario's, else ${TOPOLOGY_DEFAULTS.instances})
  --router <policy>       ${ROUTER_POLICIES.join(' | ')} (default: the scenario's, else ${TOPOLOGY_DEFAULTS.router})
  --unsafe <list>         switch safeguards off: ${SAFEGUARDS.join(',')}
  --seed <n>              seed of the fault plan's randomness
  --vus <n>               VUs of each of the scenario's executors (arrival-rate: the VU pool)
  --duration <d>          length of each executor, e.g. 30s or 2m (iteration-based ones: their
                          maxDuration; ramps keep their shape); the fault plan keeps its times
  --rate <n>              iterations started per second by each arrival-rate executor (a ramp's
                          peak); scenarios driven by VUs (cross-instance, long-session) take --vus
  --target <url>          an external backend implementing the contract (no topology is started)
  --toxiproxy-url <url>   with --target: a Toxiproxy its links go through (network faults)
  --redis-url <url>       with --target: its Redis (store faults, store snapshot)
  --out <dir>             reports root (default reports)
  --config <file>         settings file (default ./stateproof.config.json or .ts, if present)
  -h, --help

Exit codes: 0 every invariant and threshold held; 1 one failed; 2 usage or config error;
3 environment problem (e.g. redis-server missing); 4 stateproof itself failed (a harness bug:
one line names the crash log with the stack; the verdict is unknown).

Examples:
  stateproof run store-outage
  stateproof run store-outage --unsafe breaker        # must fail: the breaker is what it proves
  stateproof run cross-instance --router sticky
  stateproof run store-outage --rate 500 --vus 50 --duration 1m
  stateproof run ./my-scenario.ts --target http://127.0.0.1:8080 -e STATEPROOF_TOKEN=secret
`;

export const runFlags = {
  env: { type: 'string', short: 'e', multiple: true },
  profile: { type: 'string' },
  engine: { type: 'string' },
  k6: { type: 'string' },
  instances: { type: 'string' },
  router: { type: 'string' },
  unsafe: { type: 'string', multiple: true },
  seed: { type: 'string' },
  vus: { type: 'string' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  target: { type: 'string' },
  'toxiproxy-url': { type: 'string' },
  'redis-url': { type: 'string' },
  out: { type: 'string' },
  config: { type: 'string' },
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
  if (values.unsafe !== undefined) flags.unsafe = parseList(values.unsafe as string[], SAFEGUARDS, '--unsafe');
  if (str('seed') !== undefined) flags.seed = parseIntFlag(str('seed'), '--seed', 0, 2 ** 31 - 1);
  if (str('target') !== undefined) flags.target = str('target');
  if (str('toxiproxy-url') !== undefined) flags.toxiproxyUrl = str('toxiproxy-url');
  if (str('redis-url') !== undefined) flags.redisUrl = str('redis-url');
  if (str('out') !== undefined) flags.out = str('out');
  if (values.env !== undefined) flags.env = parseEnvPairs(values.env as string[]);
  const merged = { ...fromFile, ...flags, env: { ...fromFile.env, ...flags.env } };
  const settings = validateSettings(merged, 'flags');
  return settings;
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

/** SIGINT/SIGTERM stop the load; teardown, checks and reports still run, then the process exits. */
export function interruptible(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\nstateproof: ${sig} received — stopping the load, undoing faults, tearing down (Ctrl-C again does not skip this)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function printOutcome(outcome: RunOutcome, stream: NodeJS.WriteStream = process.stdout): void {
  const r = outcome.result;
  const lines = [`${r.verdict.pass ? 'PASS' : 'FAIL'}  ${r.scenario.name} (${r.scenario.profile}, ${r.scenario.backend ?? 'reference'})`];
  for (const inv of r.invariants) {
    lines.push(`  ${inv.holds ? 'ok  ' : 'FAIL'}  ${inv.name}${inv.holds ? '' : `: ${inv.anomalies.length} anomal${inv.anomalies.length === 1 ? 'y' : 'ies'}`}`);
    for (const a of inv.anomalies.slice(0, 3)) lines.push(`          ${a.message}${a.ops.length ? `  [ops ${a.ops.slice(0, 5).join(', ')}]` : ''}`);
  }
  for (const t of r.thresholds) lines.push(`  ${t.ok ? 'ok  ' : 'FAIL'}  threshold ${t.metric} ${t.expression}${t.observed ? ` (observed ${t.observed})` : ''}`);
  const skipped = (r.config.skippedFaults as string[] | undefined) ?? [];
  const unchecked = (r.config.uncheckedInvariants as string[] | undefined) ?? [];
  if (skipped.length) lines.push(`  not injected (no access to the target): ${skipped.join(', ')}`);
  if (unchecked.length) lines.push(`  not checked (no access to the witness): ${unchecked.join(', ')}`);
  const m = r.metrics;
  lines.push(`  ${m.totals.count} operations, ${m.throughputPerSec.toFixed(0)}/s, errors ${(m.errorRate * 100).toFixed(1)}%, degraded ${m.totals.degraded}`);
  lines.push(`  report: ${path.relative(process.cwd(), path.join(outcome.runDir, 'index.html')) || outcome.runDir}`);
  stream.write(lines.join('\n') + '\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: runFlags, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(`run takes one scenario name or script path; got ${positionals.length ? positionals.join(' ') : 'none'}. Scenarios: ${listScenarios().join(', ')}`);
  const settings = await settingsFrom(values);
  const load = loadOverridesFrom(values);
  const stop = interruptible();
  const progress = progressReporter(positionals[0]!);
  try {
    const outcome = await runScenario({
      scenario: positionals[0]!,
      profile: settings.profile,
      env: settings.env,
      engine: settings.engine,
      k6Path: settings.k6,
      instances: settings.instances,
      router: settings.router,
      unsafe: settings.unsafe,
      seed: settings.seed,
      target: settings.target,
      toxiproxyUrl: settings.toxiproxyUrl,
      redisUrl: settings.redisUrl,
      outDir: settings.out,
      load,
      signal: stop.signal,
      onProgress: (p) => progress.update(p),
    });
    progress.done();
    printOutcome(outcome);
    return outcome.exitCode;
  } finally {
    progress.done();
    stop.dispose();
  }
}
