/**
 * `stateproof list`: the built-in scenarios, each with its summary, the safeguard it guards (the
 * one whose absence it must catch, `run <name> --unsafe <safeguard>`), its fault plan and its
 * invariants, read from each scenario's `stateproof` export without running any load.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { didYouMean } from '../../base/suggest.ts';
import { plannedDurationMs, resolveScenarios, type ScenarioConfig } from '../../engine/options.ts';
import { loadSpecAndOptions } from '../../run/load-spec.ts';
import { PROFILES } from '../../../scenarios/lib/spec-types.ts';
import { listScenarios, resolveScenario } from '../../run/scenarios.ts';
import { writeJson } from '../verdict-json.ts';

export const help = `Usage: stateproof list [--profile ${PROFILES.join('|')}] [--json]

Lists the built-in scenarios (the names \`stateproof run <name>\` takes, in the order the suite runs
them), each with its summary, the safeguard it guards — switch that safeguard off with
\`--unsafe <safeguard>\` and the scenario must fail — its faults, its invariants (the names
\`run --invariants\` takes) and the load the profile gives it: each executor's VUs, rate and
length, and the sizes the scenario chose (sessions, rate, ...).

Options:
  --profile <p>         the profile whose settings are shown: ${PROFILES.join(', ')} (default ci)
  --json                the same as JSON on stdout: [{name, summary, guards, instances, faults,
                        invariants, sizes, executors}]
  -h, --help

Examples:
  stateproof list
  stateproof list --profile stress          # what \`run --profile stress\` will drive
  stateproof list --json | jq -r '.[].name'
`;

export interface ScenarioListing {
  name: string;
  summary: string | null;
  guards: string | null;
  instances: number;
  faults: string[];
  invariants: string[];
  /** What the scenario chose for this profile (sessions, ratePerSecond, ...); {} when it says nothing. */
  sizes: Record<string, number>;
  /** Its k6 executors as this profile resolves them, before any --vus/--duration/--rate. */
  executors: ExecutorListing[];
}

export interface ExecutorListing {
  name: string;
  executor: string;
  /** VUs (constant-vus, *-iterations), the start VUs (ramping-vus) or the pre-allocated pool (arrival rate). */
  vus: number;
  maxVUs?: number;
  /** Iterations started per second (arrival rate; a ramp's peak). */
  ratePerSecond?: number;
  iterations?: number;
  /** How long it runs (maxDuration for the iteration-based ones). */
  durationSeconds: number;
}

function executorListing(c: ScenarioConfig): ExecutorListing {
  const arrival = c.executor === 'constant-arrival-rate' || c.executor === 'ramping-arrival-rate';
  const iterationBased = c.executor === 'per-vu-iterations' || c.executor === 'shared-iterations';
  const length = plannedDurationMs(c) - c.startTimeMs;
  const peak = Math.max(c.executor === 'ramping-arrival-rate' ? c.startRate : c.rate, ...(c.executor === 'ramping-arrival-rate' ? c.stages.map((st) => st.target) : []));
  return {
    name: c.name,
    executor: c.executor,
    vus: arrival ? c.preAllocatedVUs : c.executor === 'ramping-vus' ? c.startVUs : c.vus,
    ...(arrival || c.executor === 'ramping-vus' ? { maxVUs: arrival ? c.maxVUs : Math.max(c.startVUs, ...c.stages.map((st) => st.target)) } : {}),
    ...(arrival ? { ratePerSecond: (peak * 1000) / c.timeUnitMs } : {}),
    ...(iterationBased ? { iterations: c.iterations } : {}),
    durationSeconds: length / 1000,
  };
}

export async function listings(profile: string): Promise<ScenarioListing[]> {
  const out: ScenarioListing[] = [];
  for (const name of listScenarios()) {
    const { spec, options } = await loadSpecAndOptions(resolveScenario(name).scriptPath, { STATEPROOF_PROFILE: profile });
    const inst = spec?.topology.instances;
    out.push({
      name,
      summary: spec?.summary ?? null,
      guards: spec?.guards ?? null,
      instances: Array.isArray(inst) ? inst.length : (inst ?? 1),
      faults: (spec?.plan.faults ?? []).map((f, i) => `${String(f.id ?? `f${i}`)} (${String((f.fault as { type?: unknown } | undefined)?.type ?? 'fault')})`),
      invariants: spec?.invariants ?? [],
      sizes: spec?.sizes ?? {},
      executors: resolveScenarios(options ?? {}).map(executorListing),
    });
  }
  return out;
}

function describeExecutor(e: ExecutorListing): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const vus = e.maxVUs !== undefined ? `${n(e.vus)}–${n(e.maxVUs)} VUs` : `${n(e.vus)} VU${e.vus === 1 ? '' : 's'}`;
  const what = e.ratePerSecond !== undefined ? `${n(e.ratePerSecond)}/s, ${vus}` : e.iterations !== undefined ? `${vus}, ${e.iterations} iteration${e.iterations === 1 ? '' : 's'}${e.executor === 'per-vu-iterations' ? ' each' : ''}` : vus;
  return `${e.name} (${e.executor}) ${what}, ${e.iterations !== undefined ? 'at most ' : ''}${e.durationSeconds} s`;
}

/** Words joined into lines of at most `width` characters, each after `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { profile: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length) throw new UsageError(`list takes no arguments; got ${positionals.join(' ')}. For one scenario's options: stateproof run --help`);
  const profile = values.profile ?? 'ci';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}; got '${profile}'.${didYouMean(profile, PROFILES)}`);
  const all = await listings(profile);
  if (values.json) {
    writeJson(all);
    return 0;
  }
  const width = Math.max(...all.map((s) => s.name.length));
  const indent = ' '.repeat(width + 4);
  const lines = [`Scenarios (${profile} profile; \`stateproof run <name>\`, the suite runs them in this order):`, ''];
  for (const s of all) {
    lines.push(`  ${s.name.padEnd(width)}  ${s.guards ? `guards ${s.guards}: fails with --unsafe ${s.guards}` : 'guards no safeguard'}`);
    lines.push(...wrap(s.summary ?? '(no stateproof export: no summary)', 96 - indent.length, indent));
    lines.push(...wrap(`${s.instances} instance${s.instances === 1 ? '' : 's'}; faults: ${s.faults.join(', ') || 'none'}`, 96 - indent.length, indent));
    lines.push(...wrap(`invariants: ${s.invariants.join(', ') || 'none'}`, 96 - indent.length, indent));
    lines.push(...wrap(`load: ${s.executors.map(describeExecutor).join('; ')}`, 96 - indent.length, indent));
    const sizes = Object.entries(s.sizes);
    if (sizes.length) lines.push(...wrap(`sizes: ${sizes.map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`, 96 - indent.length, indent));
    lines.push('');
  }
  process.stdout.write(lines.join('\n'));
  return 0;
}
