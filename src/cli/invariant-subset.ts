/**
 * `run --invariants a,b`: judge a run by some of its scenario's invariants. The names are checked
 * against the scenario's own list before anything starts. After the run, the result keeps only the
 * chosen invariants (and the operations that prove their anomalies), and the verdict is computed
 * again over that subset plus every threshold, so the exit code, the terminal and every report
 * agree. Reasons the verdict had besides invariants and thresholds (e.g. a run stopped early) stay.
 */
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';
import { verdictOf } from '../report/build.ts';
import type { RunResult } from '../report/result-schema.ts';

export function parseInvariantList(values: readonly string[], scenario: string, declared: readonly string[] | undefined): string[] {
  const names = [...new Set(values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw new UsageError(`--invariants needs at least one name; ${scenario}'s: ${(declared ?? []).join(', ') || 'none'}`);
  if (!declared || declared.length === 0) {
    throw new UsageError(`--invariants: ${scenario} declares no invariants (a script needs a 'stateproof' export with its invariants, see scenarios/lib/spec.ts); drop --invariants`);
  }
  for (const n of names) {
    if (!declared.includes(n)) throw new UsageError(`--invariants: '${n}' is not one of ${scenario}'s invariants.${didYouMean(n, declared)} Its invariants: ${declared.join(', ')}`);
  }
  return names;
}

export function keepInvariants(result: RunResult, names: readonly string[]): RunResult {
  const chosen = new Set(names);
  const invariants = result.invariants.filter((i) => chosen.has(i.name));
  const left = result.invariants.filter((i) => !chosen.has(i.name)).map((i) => i.name);
  // The reasons the full verdict got from invariants and thresholds; anything else it said stays.
  const own = new Set(verdictOf(result, [], result.verdict.interrupted).reasons);
  const other = result.verdict.reasons.filter((r) => !own.has(r));
  const recomputed = verdictOf({ invariants, thresholds: result.thresholds }, other, result.verdict.interrupted);
  // An exit code the run gave for something other than a failed check (not 0 or 1) is the run's to keep.
  const exitCode = other.length && ![0, 1].includes(result.verdict.exitCode) ? result.verdict.exitCode : recomputed.exitCode;
  const proving = new Set(invariants.flatMap((i) => i.anomalies.flatMap((a) => a.ops)));
  return {
    ...result,
    invariants,
    provingOps: result.provingOps.filter((o) => proving.has(o.id)),
    verdict: { ...result.verdict, ...recomputed, exitCode },
    config: { ...result.config, invariants: [...names], notSelectedInvariants: left },
  };
}
