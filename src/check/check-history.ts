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
import { EVIDENCE_TEXT, INVARIANTS, invariantSpec, isInvariantName, unmetNeeds, type CheckContext, type Finding, type InvariantName, type MeasuredInvariant } from './invariants.ts';
import { checkLostWrites, type LostWritesResult } from './lost-writes.ts';
import { DEFAULTS, resolveOptions, type CheckInputs } from './options.ts';
import { checkRecovery } from './scenario/fault-windows.ts';
import { checkSessionGuarantees, type SessionGuaranteeAnomalies } from './session-guarantees.ts';
import { indexSessions, normalizeHistory, type SessionIndex } from './sessions.ts';
import { measureStaleness, type StalenessResult } from './staleness.ts';
import type { Anomaly, CheckReport, CheckStats, InvariantResult, RecoveryMeasure } from './types.ts';

export interface CheckOptions extends CheckInputs {
  /** Invariants to evaluate, in this order; default: every byDefault one whose needs are given. */
  invariants?: readonly InvariantName[];
}

export function checkHistory(input: readonly HistoryEntry[], options: CheckOptions = {}): CheckReport {
  const u = checkUncapped(input, options, pickInvariants(options));
  return wordReport(u.found, u.figures, u.stats!, options.maxAnomaliesPerInvariant ?? DEFAULTS.maxAnomaliesPerInvariant);
}

/**
 * One check with what a partitioned check (partitioned-check.ts) merges: every anomaly (uncapped),
 * the evidence figures and the staleness samples. wordReport words it as checkHistory does.
 */
export interface UncappedCheck {
  found: Map<InvariantName, Finding>;
  figures: Map<MeasuredInvariant, readonly number[]>;
  /** What each invariant tallied for its conclusion (drawn here unless { conclude: false }). */
  tallies: Map<InvariantName, readonly number[]>;
  /** Absent when asked for findings only ({ stats: false }). */
  staleness?: StalenessResult;
  stats?: CheckStats;
  recovery?: RecoveryMeasure[];
}

export function checkUncapped(input: readonly HistoryEntry[], options: CheckInputs, names: readonly InvariantName[], { stats: withStats = true, conclude = true } = {}): UncappedCheck {
  const opts = resolveOptions(options);
  const history = normalizeHistory(input);
  // Built on first use: a check of run-wide invariants only (a partitioned check's last pass) needs no index.
  let index: SessionIndex[] | undefined;
  const sessions = () => (index ??= indexSessions(history, opts));
  let lost: LostWritesResult | undefined;
  let guarantees: SessionGuaranteeAnomalies | undefined;
  let staleness: StalenessResult | undefined;
  let recovery: ReturnType<CheckContext['recovery']> | undefined;
  const figures = new Map<MeasuredInvariant, readonly number[]>();
  const tallies = new Map<InvariantName, readonly number[]>();
  const context: CheckContext = {
    measure: (name, f) => {
      figures.set(name, f);
    },
    tally: (name, f) => {
      tallies.set(name, f);
    },
    history,
    get sessions() {
      return sessions();
    },
    opts,
    given: options,
    lostWrites: () => (lost ??= checkLostWrites(sessions(), opts)),
    sessionGuarantees: () => (guarantees ??= checkSessionGuarantees(sessions(), opts)),
    staleness: () => (staleness ??= measureStaleness(sessions(), opts)),
    recovery: () => (recovery ??= checkRecovery(history, options.faultWindows ?? [])),
  };

  const found = new Map<InvariantName, Finding>();
  for (const name of names) {
    const unmet = unmetNeeds(name, options);
    // An invariant picked without the input it needs cannot hold: say what to pass.
    if (unmet.length) {
      found.set(name, [missingInput(name, unmet)]);
      continue;
    }
    const spec = invariantSpec(name);
    const f = spec.check(context);
    found.set(name, conclude && spec.conclude && Array.isArray(f) ? [...f, ...spec.conclude(tallies.get(name) ?? [])] : f);
  }
  const measures = options.faultWindows ? context.recovery().measures : undefined;
  if (!withStats) return { found, figures, tallies, recovery: measures };
  const stats = statsOf(history, sessions().length, context.lostWrites().stats, context.staleness());
  if (measures) stats.recovery = measures;
  return { found, figures, tallies, staleness: context.staleness(), stats, recovery: measures };
}

export function missingInput(name: InvariantName, unmet: readonly string[]): Anomaly {
  return { type: 'missing-input', message: `${name} was requested but no ${unmet.join(', ')} was given to checkHistory`, ops: [] };
}

/** The report of what was found: anomalies capped per invariant, evidence worded from its figures. */
export function wordReport(found: ReadonlyMap<InvariantName, Finding>, figures: ReadonlyMap<MeasuredInvariant, readonly number[]>, stats: CheckStats, cap: number): CheckReport {
  const invariants: InvariantResult[] = [...found].map(([name, f]) => {
    if (!Array.isArray(f)) return f;
    return { name, holds: f.length === 0, description: invariantSpec(name).description, anomalies: capAnomalies(f, cap) };
  });
  const evidence: Record<string, { count: number; text: string }> = {};
  for (const [name, f] of figures) evidence[name] = { count: f[0] ?? 0, text: EVIDENCE_TEXT[name](f) };
  return { holds: invariants.every((i) => i.holds), invariants, stats: { ...stats, evidence } };
}

export function pickInvariants(options: CheckOptions): InvariantName[] {
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
