/**
 * The registry of invariants: each one is declared here once, with its stable name, the promise it
 * checks, the inputs it cannot be judged without, and its checker. checkHistory evaluates any set
 * of them; a scenario names the ones that decide its verdict (`stateproof.invariants`); the run
 * reads `needs` to tell which ones a backend gave it the witnesses for.
 *
 *   name ─▶ { description, needs, byDefault, check(context) }
 *                                                  │ anomalies, or a result the checker shaped itself
 *                                                  ▼
 *                                   checkHistory ─▶ InvariantResult
 */
import type { HistoryEntry } from '../record/history.ts';
import { checkCas } from './conflicts.ts';
import { checkDegradationFlagged, checkNoStore5xx } from './degradation.ts';
import { checkRedirectsFollowed } from './scenario/redirects.ts';
import { checkDivergence } from './divergence.ts';
import { checkDuplicates } from './duplicates.ts';
import type { LostWritesResult } from './lost-writes.ts';
import { crossCheckMetrics } from './metrics-cross-check.ts';
import { DEFAULTS, type CheckInputs, type ResolvedOptions } from './options.ts';
import { checkPhantomWrites } from './phantom-writes.ts';
import { degradedUnflagged, reconcileAuditTurns, reconcileStore } from './reconcile.ts';
import { foldOver, type HistoryFold } from './history-fold.ts';
import { bytesWithinCapFold, idleExpiredFold, latencyFlatFold, oversizedRejectedFold, ttlSetFold, pinnedFactsLost, pinnedNotObserved } from './scenario/bounded-growth.ts';
import { checkDivergenceAfterFailover, checkFailoverLoss, failoverFromWindows } from './scenario/failover-loss.ts';
import { checkFaultLatency } from './scenario/fault-windows.ts';
import { checkFinalSchemaVersion, checkSchemaRegression } from './schema-regression.ts';
import type { SessionGuaranteeAnomalies } from './session-guarantees.ts';
import type { SessionIndex } from './sessions.ts';
import type { StalenessResult } from './staleness.ts';
import type { Anomaly, InvariantResult, RecoveryMeasure } from './types.ts';
import { checkRevisionSteps } from './revision-steps.ts';
import { checkTurnOrder } from './turn-order.ts';
import { checkTenantIsolation, crossTenantReads } from './tenant-isolation.ts';
import { projectGrowth } from './growth-projection.ts';
import { checkDeletes } from './deletes.ts';
import { sessionKey } from './sessions.ts';

/** An input an invariant cannot be judged without, named as checkHistory's option that carries it. */
export type Need = keyof Pick<CheckInputs, 'audit' | 'store' | 'metrics' | 'expectedSchemaVersion' | 'faultWindows'>;

/** What a checker sees: the history once indexed, the inputs as given, and the families several invariants share. */
export interface CheckContext {
  /** The history in one object shape (normalizeHistory). */
  history: readonly HistoryEntry[];
  sessions: readonly SessionIndex[];
  opts: ResolvedOptions;
  given: CheckInputs;
  /** Each family runs at most once however many of its invariants are picked. */
  lostWrites(): LostWritesResult;
  sessionGuarantees(): SessionGuaranteeAnomalies;
  staleness(): StalenessResult;
  recovery(): { result: InvariantResult; measures: RecoveryMeasure[] };
  /**
   * A checker's own count of what it checked: the evidence its verdict rests on
   * (src/check/evidence.ts). Given as figures that add up across histories split by session
   * (the first is the count), worded by EVIDENCE_TEXT, so a partitioned check sums them exactly.
   */
  measure(name: MeasuredInvariant, figures: readonly number[]): void;
  /** Figures a run-wide conclusion is drawn from (InvariantSpec.conclude), summed across histories split by session. */
  tally(name: InvariantName, figures: readonly number[]): void;
}

/**
 * What a checker found: its anomalies (checkHistory lists the first maxAnomaliesPerInvariant and
 * words the result with the description below), or a whole result it shaped itself (its
 * description carries the run's figures, e.g. the cap or the TTL; it lists its own anomalies).
 */
export type Finding = Anomaly[] | InvariantResult;

export interface InvariantSpec {
  /** The promise, in a sentence a report reader can check the anomalies against. */
  description: string;
  /** Checked with `needs` missing, the invariant fails with one anomaly saying what to pass. */
  needs?: readonly Need[];
  /** checkHistory runs it when no set is named and every one of its needs is given. */
  byDefault?: boolean;
  /**
   * 'session': its anomalies over a history are exactly the union of its anomalies over that
   * history split by session id (every entry, audit record and store key of one session id, any
   * tenant, any case, in one part), with `conclude` drawn once from the summed tallies. Such an
   * invariant is checked partition by partition (partitioned-check.ts); any other over the whole
   * run, from slim entries unless it `reads` the windows.
   */
  scope?: 'session';
  /**
   * What a run-wide invariant reads of windows and summaries, which slim entries drop: 'windows'
   * keeps them whole; `windowsOf`, given one partition, names the entries whose whole window it
   * reads (a partition holds every entry of a session id, so whatever a session id's own entries
   * decide can be decided there). Summaries are kept only with 'windows'.
   */
  reads?: 'windows' | { windowsOf: (partition: readonly HistoryEntry[]) => (e: HistoryEntry) => boolean };
  /** The anomalies only the whole run shows, from the figures its check tallied (summed over parts). */
  conclude?(tally: readonly number[]): Anomaly[];
  /**
   * A run-wide invariant that folds over the history part by part (HistoryFold): a partitioned
   * check feeds it each partition as loaded, and keeps no slim copy of the entries for it.
   * `check` is then the same fold over the whole history (streamed() below).
   */
  stream?(given: CheckInputs): HistoryFold;
  check(c: CheckContext): Finding;
}

/** An invariant checked by one fold, given the history whole (check) or in parts (stream). */
function streamed(make: (given: CheckInputs) => HistoryFold): Pick<InvariantSpec, 'stream' | 'check'> {
  return { stream: make, check: (c) => foldOver(make(c.given), c.history) };
}

export const INVARIANTS = {
  'no-lost-writes': {
    scope: 'session',
    description:
      'Every acknowledged turn is in the last later read of its session: in the window if its position is still inside it, otherwise counted in turnCount.',
    byDefault: true,
    check: (c) => c.lostWrites().anomalies,
  },
  'no-phantom-writes': {
    scope: 'session',
    description: 'No read shows a turn unless an append of it that succeeded or timed out had been sent before the read ended.',
    byDefault: true,
    check: (c) => checkPhantomWrites(c.sessions, c.opts, c.given.seeded),
  },
  'no-duplicates': {
    scope: 'session',
    description: 'No turn is applied twice: no window holds one turn id twice, no turn id is acknowledged as applied twice, no append moves turnCount by two.',
    byDefault: true,
    check: (c) => checkDuplicates(c.sessions, c.opts),
  },
  'no-divergence': {
    scope: 'session',
    description: 'All reads of a session are prefix-compatible: aligned on turnCount, two reads never show different turns at the same position.',
    byDefault: true,
    check: (c) => checkDivergence(c.sessions, c.opts),
  },
  'read-your-writes': {
    scope: 'session',
    description: "A client's read reflects its own acknowledged appends (strong reads always; bounded reads once the staleness bound has passed).",
    byDefault: true,
    check: (c) => c.sessionGuarantees().readYourWrites,
  },
  'monotonic-reads': {
    scope: 'session',
    description: "A client's later read never shows fewer turns than its earlier read (strong always; bounded beyond the bound).",
    byDefault: true,
    check: (c) => c.sessionGuarantees().monotonicReads,
  },
  'monotonic-writes': {
    scope: 'session',
    description: "A client's acknowledged appends are ordered in the session as the client made them.",
    byDefault: true,
    check: (c) => c.sessionGuarantees().monotonicWrites,
  },
  'writes-follow-reads': {
    scope: 'session',
    description: "A client's append is ordered after every turn that client had read before sending it.",
    byDefault: true,
    check: (c) => c.sessionGuarantees().writesFollowReads,
  },
  'bounded-staleness': {
    scope: 'session',
    description: 'Bounded reads are never older than the staleness bound: no bounded read misses a state acknowledged more than the bound before it started.',
    byDefault: true,
    check: (c) => c.staleness().beyondBound,
  },
  'no-schema-regression': {
    scope: 'session',
    description: "A session's schemaVersion never goes backwards: no answer shows a lower version than one completed before it started.",
    byDefault: true,
    check: (c) => checkSchemaRegression(c.sessions),
  },
  'cas-respected': {
    scope: 'session',
    description: 'Appends are atomic: an If-Match append applies only as revision If-Match+1, and no two turns are acknowledged with the same revision.',
    byDefault: true,
    check: (c) => checkCas(c.sessions),
  },
  'degradation-flagged': {
    scope: 'session',
    description: 'Every answer says its mode (X-State-Mode), and header and body agree: no degraded answer passes as normal.',
    byDefault: true,
    check: (c) => checkDegradationFlagged(c.history),
  },
  'no-store-5xx': {
    scope: 'session',
    description: "No answer is a 5xx other than the contract's 503 (a store failure is never a bare 500).",
    byDefault: true,
    check: (c) => checkNoStore5xx(c.history, c.opts),
  },
  'no-stale-strong-reads': {
    scope: 'session',
    description: 'A strong read never misses a state that was acknowledged or read before it started (linearizable reads).',
    check: (c) => c.staleness().staleStrong,
  },
  'final-schema-version': {
    scope: 'session',
    description: 'Every session touched ends at the expected (newest) schema version.',
    needs: ['expectedSchemaVersion'],
    byDefault: true,
    check: (c) => checkFinalSchemaVersion(c.sessions, c.given.expectedSchemaVersion!),
  },
  'audit-agrees': {
    description: "The service's audit trail agrees with the client's history: every acknowledged turn applied once, nothing applied that the client saw fail.",
    needs: ['audit'],
    byDefault: true,
    scope: 'session',
    check: (c) => {
      const r = reconcileAuditTurns(c.history, c.given.audit!, c.given.tenanted);
      c.tally('audit-agrees', [r.tally.auditDegraded, r.tally.clientDegraded, r.tally.noAnswer]);
      return r.anomalies;
    },
    conclude: ([auditDegraded = 0, clientDegraded = 0, noAnswer = 0]) => degradedUnflagged({ auditDegraded, clientDegraded, noAnswer }),
  },
  'store-agrees': {
    description:
      'The store snapshot agrees with the history and audit: every acknowledged turn counted (and in the window if it should be), nothing unknown stored, every key has a TTL and fits the size cap.',
    needs: ['store'],
    byDefault: true,
    scope: 'session',
    check: (c) => reconcileStore(c.history, c.given.store!, { audit: c.given.audit, windowTurns: c.opts.windowTurns, maxStateBytes: c.given.maxStateBytes, tenanted: c.given.tenanted }),
  },
  'metrics-agree': {
    description:
      "The service's /metrics agree with what the client saw: state metrics present, conflict and degraded counters match, migrations and state sizes recorded.",
    needs: ['metrics'],
    byDefault: true,
    check: (c) => crossCheckMetrics(c.history, c.given.metrics!, { expectedMigrationsMin: c.given.expectedMigrationsMin, names: c.given.metricNames, abandonedRequests: c.given.abandonedRequests }),
  },
  'fault-p99-within-budget': {
    description: "While a store fault is applied, p99 of answer time stays within the service's store timeout budget plus a small slack: a slow or dead store must not make users wait.",
    needs: ['faultWindows'],
    check: (c) => checkFaultLatency(c.history, c.given.faultWindows!, c.given.storeTimeoutMs ?? DEFAULTS.storeTimeoutMs),
  },
  'recovers-within-5s': {
    description: 'Once the store is back, normal (acknowledged, not degraded) answers return within 5 s and stay.',
    needs: ['faultWindows'],
    check: (c) => c.recovery().result,
  },
  'bytes-within-cap': {
    description: 'Stored state per session never exceeds the size cap, as reported by the service on reads and, when a store snapshot is given, as held in the store.',
    ...streamed((given) => bytesWithinCapFold(given.store ?? [], given.maxStateBytes ?? DEFAULTS.capBytes)),
  },
  'ttl-set': {
    description: 'Every session key in the store has a TTL, so abandoned sessions do not accumulate.',
    needs: ['store'],
    ...streamed((given) => ttlSetFold(given.store!)),
  },
  'idle-expired': {
    description: 'Sessions the scenario left idle longer than their TTL are gone.',
    ...streamed((given) => idleExpiredFold(given.idleSessionPrefix ?? DEFAULTS.idleSessionPrefix, (given.sessionTtlMs ?? DEFAULTS.idleTtlMs) / 1000, given.noTtl)),
  },
  'oversized-rejected': {
    description: 'A turn over the size limit gets 413 state_too_large and changes nothing.',
    ...streamed(() => oversizedRejectedFold()),
  },
  'pinned-facts-kept': {
    description: 'Facts the user pinned ("remember: ...") survive compaction: the last summary (or window) still holds them.',
    scope: 'session',
    check: (c) => {
      const r = pinnedFactsLost(c.history);
      c.tally('pinned-facts-kept', [r.checked]);
      return r.anomalies;
    },
    conclude: ([checked = 0]) => pinnedNotObserved(checked),
  },
  'latency-flat': {
    description: "Appends do not get slower as a session grows: p99 of a session's last appends stays near the p99 of its first, unless the median stayed put (a tail that moves alone is machine noise).",
    ...streamed((given) => latencyFlatFold({ baselineSuffix: given.baselineSuffix })),
  },
  'failover-loss-window': {
    reads: 'windows',
    description: 'Acknowledged writes lost when the async replica is promoted are measured and confined to the window just before the kill; a write acknowledged earlier, or sent after the kill, is never lost.',
    needs: ['faultWindows'],
    check: (c) => checkFailoverLoss(c.history, failoverFromWindows(c.given.faultWindows!)),
  },
  'redirects-followed': {
    description: 'While slots move between shards, every answer is normal: no 5xx (503 included) and no degraded answer, because a slot that moved is still served and MOVED and ASK must be followed.',
    check: (c) => checkRedirectsFollowed(c.history),
  },
  'no-divergence-after-failover': {
    reads: 'windows',
    description: 'All reads made after the failover are prefix-compatible: once the promoted replica answers, no session forks again.',
    needs: ['faultWindows'],
    check: (c) => checkDivergenceAfterFailover(c.history, failoverFromWindows(c.given.faultWindows!), c.opts.windowTurns),
  },
  'revision-per-turn': {
    scope: 'session',
    description: 'revision rises by exactly one per applied turn and turnCount counts applied turns: revision − turnCount never changes within a session, no answer counts more turns than were sent, and a replay leaves the count where its acknowledgement put it.',
    check: (c) => {
      const seeded = new Map<string, number>();
      for (const sd of c.given.seeded ?? []) seeded.set(sessionKey(sd), sd.turnIds.length);
      const r = checkRevisionSteps(c.sessions, seeded);
      c.measure('revision-per-turn', [r.answersChecked, r.replaysChecked]);
      return r.anomalies;
    },
  },
  'turn-order': {
    scope: 'session',
    description: 'Turns keep the order in which they were acknowledged: a turn acknowledged before another was sent comes first in every window that holds both.',
    check: (c) => {
      const r = checkTurnOrder(c.sessions);
      c.measure('turn-order', [r.readsChecked]);
      return r.anomalies;
    },
  },
  'tenant-isolation': {
    // It reads the windows of reads of a session id another tenant also wrote, no other.
    reads: { windowsOf: crossTenantReads },
    description: "One tenant never sees another's state: a session id another tenant wrote (or a case variant of it) answers 404, and no window holds another tenant's turn.",
    check: (c) => {
      const r = checkTenantIsolation(c.history);
      c.measure('tenant-isolation', [r.tenants >= 2 ? r.crossReads : 0, r.crossReads, r.tenants]);
      return r.anomalies;
    },
  },
  'no-unbounded-growth': {
    description: 'State stops growing once the window is full: the bytes-per-turn slope after the window fills is flat; a session that keeps growing is flagged with the turn at which it would reach the cap.',
    check: (c) => {
      const r = projectGrowth(c.history, { windowTurns: c.opts.windowTurns, maxStateBytes: c.given.maxStateBytes });
      c.measure('no-unbounded-growth', [r.sessionsMeasured, r.medianSlopeBytesPerTurn]);
      return r.anomalies;
    },
  },
  'delete-removes': {
    scope: 'session',
    description: 'DELETE removes a session: a read after an acknowledged delete, with no append sent since, answers 404.',
    check: (c) => {
      const r = checkDeletes(c.sessions);
      c.measure('delete-removes', [r.readsChecked]);
      return r.anomalies;
    },
  },
} satisfies Record<string, InvariantSpec>;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** How each measured invariant words its figures (see CheckContext.measure). */
export const EVIDENCE_TEXT = {
  'revision-per-turn': ([answers = 0, replays = 0]) => `${fmt(answers)} answers with revision and turnCount, ${fmt(replays)} replays`,
  'turn-order': ([reads = 0]) => `${fmt(reads)} reads holding two or more acknowledged turns`,
  'tenant-isolation': ([, crossReads = 0, tenants = 0]) => `${fmt(crossReads)} reads of session ids another tenant wrote, ${tenants} tenants`,
  'no-unbounded-growth': ([sessions = 0, slope = 0]) => `${fmt(sessions)} sessions read past a full window (median slope ${slope.toFixed(1)} B/turn)`,
  'delete-removes': ([reads = 0]) => `${fmt(reads)} reads after an acknowledged delete`,
} satisfies Record<string, (figures: readonly number[]) => string>;

export type MeasuredInvariant = keyof typeof EVIDENCE_TEXT;

export type InvariantName = keyof typeof INVARIANTS;

const SPECS: Record<InvariantName, InvariantSpec> = INVARIANTS;

export function isInvariantName(name: string): name is InvariantName {
  return Object.hasOwn(INVARIANTS, name);
}

export function invariantSpec(name: InvariantName): InvariantSpec {
  return SPECS[name];
}

/** The inputs `name` needs that `given` lacks. */
export function unmetNeeds(name: InvariantName, given: CheckInputs): Need[] {
  return (SPECS[name].needs ?? []).filter((n) => given[n] === undefined);
}

/** What checkHistory runs when no set is named and no extra input is given: the history-only defaults. */
export const DEFAULT_INVARIANTS: readonly InvariantName[] = (Object.keys(SPECS) as InvariantName[]).filter((n) => SPECS[n].byDefault && !SPECS[n].needs?.length);
