/**
 * `stateproof list`: the built-in scenarios, each with its summary, the safeguard it guards (the
 * one whose absence it must catch, `run <name> --unsafe <safeguard>`), its fault plan and its
 * invariants, read from each scenario's `stateproof` export without running any load.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { loadSpec } from '../../run/load-spec.ts';
import { listScenarios, resolveScenario } from '../../run/scenarios.ts';
import { writeJson } from '../verdict-json.ts';

export const help = `Usage: stateproof list [--profile ci|full] [--json]

Lists the built-in scenarios (the names \`stateproof run <name>\` takes, in the order the suite runs
them), each with its summary, the safeguard it guards — switch that safeguard off with
\`--unsafe <safeguard>\` and the scenario must fail — its faults and its invariants
(the names \`run --invariants\` takes).

Options:
  --profile <ci|full>   the profile whose settings are shown (default ci)
  --json                the same as JSON on stdout: [{name, summary, guards, instances, faults, invariants}]
  -h, --help

Examples:
  stateproof list
  stateproof list --json | jq -r '.[].name'
`;

export interface ScenarioListing {
  name: string;
  summary: string | null;
  guards: string | null;
  instances: number;
  faults: string[];
  invariants: string[];
}

export async function listings(profile: string): Promise<ScenarioListing[]> {
  const out: ScenarioListing[] = [];
  for (const name of listScenarios()) {
    const spec = await loadSpec(resolveScenario(name).scriptPath, { STATEPROOF_PROFILE: profile });
    const inst = spec?.topology.instances;
    out.push({
      name,
      summary: spec?.summary ?? null,
      guards: spec?.guards ?? null,
      instances: Array.isArray(inst) ? inst.length : (inst ?? 1),
      faults: (spec?.plan.faults ?? []).map((f, i) => `${String(f.id ?? `f${i}`)} (${String((f.fault as { type?: unknown } | undefined)?.type ?? 'fault')})`),
      invariants: spec?.invariants ?? [],
    });
  }
  return out;
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
  if (profile !== 'ci' && profile !== 'full') throw new UsageError(`--profile must be ci or full; got '${profile}'`);
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
    lines.push('');
  }
  process.stdout.write(lines.join('\n'));
  return 0;
}
