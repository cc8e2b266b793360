/**
 * checkHistory: the invariants of the registry (invariants.ts) over one recorded history.
 *
 *   history ─▶ normalizeHistory ─▶ indexSessions (by session, split into epochs) ─▶ context
 *                                                                                    │
 *        names picked (or the defaults whose inputs are given) ─▶ each one's check(context)
 *                                                                                    ▼
 *                                                           invariants + stats (CheckReport)
 *
 * A scenario picks the invariants that apply to it; anything it picks is evaluated, anything it
 * does not is not reported.
 */
import type { HistoryEntry } from '../record/history.ts';
import { capAnomalies } from './cap-anomalies.ts';
import { countRevisionConflicts } from './conflicts.ts';
import { INVARIANTS, invariantSpec, isInvariantName, unmetNeeds, type CheckContext, type InvariantName } from './invariants.ts';
import { checkLostWrites, type LostWritesResult } from './lost-writes.ts';
import { DEFAULTS, resolveOptions, type CheckInputs } from './options.ts';
import { checkRecovery } from './scenario/fault-windows.ts';
import { checkSessionGuarantees, type SessionGuaranteeAnomalies } from './session-guarantees.ts';
import { indexSessions, normalizeHistory } from './sessions.ts';
import { measureStaleness, type StalenessResult } from './staleness.ts';
import type { CheckReport, CheckStats, InvariantResult } from './types.ts';

export interface CheckOptions extends CheckInputs {
  /** Invariants to evaluate, in this order; default: every byDefault one whose needs are given. */
  invariants?: readonly InvariantName[];
}

export function checkHistory(input: readonly HistoryEntry[], options: CheckOptions = {}): CheckReport {
  const opts = resolveOptions(options);
  const history = normalizeHistory(input);
  const names = pickInvariants(options);
  const sessions = indexSessions(history, opts);
  let lost: LostWritesResult | undefined;
  let guarantees: SessionGuaranteeAnomalies | undefined;
  let staleness: StalenessResult | undefined;
  let recovery: ReturnType<CheckContext['recovery']> | undefined;
  const evidence: Record<string, { count: number; text: string }> = {};
  const context: CheckContext = {
    measure: (name, count, text) => {
      evidence[name] = { count, text };
    },
    history,
    sessions,
    opts,
    given: options,
    lostWrites: () => (lost ??= checkLostWrites(sessions, opts)),
    sessionGuarantees: () => (guarantees ??= checkSessionGuarantees(sessions, opts)),
    staleness: () => (staleness ??= measureStaleness(sessions, opts)),
    recovery: () => (recovery ??= checkRecovery(history, options.faultWindows ?? [])),
  };

  const cap = options.maxAnomaliesPerInvariant ?? DEFAULTS.maxAnomaliesPerInvariant;
  const invariants: InvariantResult[] = names.map((name) => {
    const spec = invariantSpec(name);
    const unmet = unmetNeeds(name, options);
    // An invariant picked without the input it needs cannot hold: say what to pass.
    const found = unmet.length
      ? [{ type: 'missing-input', message: `${name} was requested but no ${unmet.join(', ')} was given to checkHistory`, ops: [] }]
      : spec.check(context);
    if (!Array.isArray(found)) return found;
    return { name, holds: found.length === 0, description: spec.description, anomalies: capAnomalies(found, cap) };
  });
  const stats = statsOf(history, sessions.length, context.lostWrites().stats, context.staleness());
  if (options.faultWindows) stats.recovery = context.recovery().measures;
  stats.evidence = evidence;
  return { holds: invariants.every((i) => i.holds), invariants, stats };
}

function pickInvariants(options: CheckOptions): InvariantName[] {
  if (options.invariants) {
    for (const n of options.invariants) {
      if (!isInvariantName(n)) throw new RangeError(`unknown invariant "${n}"; known: ${Object.keys(INVARIANTS).join(', ')}`);
    }
    return [...new Set(options.invariants)];
  }
  return (Object.keys(INVARIANTS) as InvariantName[]).filter((n) => invariantSpec(n).byDefault && unmetNeeds(n, options).length === 0);
}

function statsOf(history: readonly HistoryEntry[], sessions: number, acknowledgedTurns: CheckStats['acknowledgedTurns'], st: StalenessResult): CheckStats {
  const ops: CheckStats['ops'] = {};
  let degradedResponses = 0;
  for (const e of history) {
    (ops[e.op] ??= { ok: 0, fail: 0, unknown: 0 })[e.outcome]++;
    if (e.mode === 'degraded') degradedResponses++;
  }
  return {
    entries: history.length,
    sessions,
    ops,
    acknowledgedTurns,
    staleness: st.stats,
    degradedResponses,
    revisionConflicts: countRevisionConflicts(history),
  };
}
