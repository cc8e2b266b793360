/**
 * checkHistory: every checker over one recorded history, as named invariants.
 *
 *   history ─▶ indexSessions (by session, split into epochs) ─▶ each checker family ─▶ invariants
 *                                        audit / store / metrics (optional) ─▶ reconcile, cross-check
 *
 * A scenario picks the invariants that apply to it; anything it picks is evaluated, anything it
 * does not is not reported. Each family runs at most once however many of its invariants are picked.
 */
import type { HistoryEntry } from '../record/history.ts';
import { checkDuplicates } from './duplicates.ts';
import { checkDegradationFlagged, checkNoStore5xx } from './degradation.ts';
import { checkDivergence } from './divergence.ts';
import { checkLostWrites } from './lost-writes.ts';
import { crossCheckMetrics } from './metrics-cross-check.ts';
import { DEFAULT_INVARIANTS, DEFAULTS, INVARIANTS, resolveOptions, type CheckOptions, type InvariantName } from './options.ts';
import { checkPhantomWrites } from './phantom-writes.ts';
import { reconcileAudit, reconcileStore } from './reconcile.ts';
import { checkFinalSchemaVersion, checkSchemaRegression } from './schema-regression.ts';
import { checkSessionGuarantees, type SessionGuaranteeAnomalies } from './session-guarantees.ts';
import { indexSessions, normalizeHistory } from './sessions.ts';
import { measureStaleness, type StalenessResult } from './staleness.ts';
import { checkCas, countRevisionConflicts } from './conflicts.ts';
import type { Anomaly, CheckReport, CheckStats, InvariantResult } from './types.ts';

export function checkHistory(input: readonly HistoryEntry[], options: CheckOptions = {}): CheckReport {
  const opts = resolveOptions(options);
  const history = normalizeHistory(input);
  const names = pickInvariants(options);
  const sessions = indexSessions(history, opts);
  const lost = checkLostWrites(sessions, opts);
  let guarantees: SessionGuaranteeAnomalies | undefined;
  let staleness: StalenessResult | undefined;
  const sg = (): SessionGuaranteeAnomalies => (guarantees ??= checkSessionGuarantees(sessions, opts));
  const st = (): StalenessResult => (staleness ??= measureStaleness(sessions, opts));

  const run: Record<InvariantName, () => Anomaly[]> = {
    'no-lost-writes': () => lost.anomalies,
    'no-phantom-writes': () => checkPhantomWrites(sessions, opts, options.seeded),
    'no-duplicates': () => checkDuplicates(sessions, opts),
    'no-divergence': () => checkDivergence(sessions, opts),
    'read-your-writes': () => sg().readYourWrites,
    'monotonic-reads': () => sg().monotonicReads,
    'monotonic-writes': () => sg().monotonicWrites,
    'writes-follow-reads': () => sg().writesFollowReads,
    'bounded-staleness': () => st().beyondBound,
    'no-stale-strong-reads': () => st().staleStrong,
    'no-schema-regression': () => checkSchemaRegression(sessions),
    'final-schema-version': () =>
      options.expectedSchemaVersion === undefined
        ? [missingInput('final-schema-version', 'expectedSchemaVersion')]
        : checkFinalSchemaVersion(sessions, options.expectedSchemaVersion),
    'cas-respected': () => checkCas(sessions),
    'degradation-flagged': () => checkDegradationFlagged(history),
    'no-store-5xx': () => checkNoStore5xx(history, opts),
    'audit-agrees': () => (options.audit ? reconcileAudit(history, options.audit) : [missingInput('audit-agrees', 'audit')]),
    'store-agrees': () =>
      options.store
        ? reconcileStore(history, options.store, { audit: options.audit, windowTurns: opts.windowTurns, maxStateBytes: options.maxStateBytes })
        : [missingInput('store-agrees', 'store')],
    'metrics-agree': () =>
      options.metrics
        ? crossCheckMetrics(history, options.metrics, { expectedMigrationsMin: options.expectedMigrationsMin })
        : [missingInput('metrics-agree', 'metrics')],
  };

  const cap = options.maxAnomaliesPerInvariant ?? DEFAULTS.maxAnomaliesPerInvariant;
  const invariants: InvariantResult[] = names.map((name) => {
    const anomalies = run[name]();
    return { name, holds: anomalies.length === 0, description: INVARIANTS[name], anomalies: capList(anomalies, cap) };
  });
  return { holds: invariants.every((i) => i.holds), invariants, stats: statsOf(history, sessions.length, lost.stats, st()) };
}

function pickInvariants(options: CheckOptions): InvariantName[] {
  if (options.invariants) {
    for (const n of options.invariants) {
      if (!(n in INVARIANTS)) throw new RangeError(`unknown invariant "${n}"; known: ${Object.keys(INVARIANTS).join(', ')}`);
    }
    return [...new Set(options.invariants)];
  }
  const names: InvariantName[] = [...DEFAULT_INVARIANTS];
  if (options.expectedSchemaVersion !== undefined) names.push('final-schema-version');
  if (options.audit) names.push('audit-agrees');
  if (options.store) names.push('store-agrees');
  if (options.metrics) names.push('metrics-agree');
  return names;
}

/** An invariant picked without the input it needs cannot hold: say what to pass. */
function missingInput(name: InvariantName, field: string): Anomaly {
  return { type: 'missing-input', message: `${name} was requested but no ${field} was given to checkHistory`, ops: [] };
}

function capList(anomalies: Anomaly[], cap: number): Anomaly[] {
  if (anomalies.length <= cap) return anomalies;
  const rest = anomalies.length - cap;
  return [...anomalies.slice(0, cap), { type: 'more', message: `${rest} more anomalies of this invariant not listed`, ops: [] }];
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
