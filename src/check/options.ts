/**
 * The invariants the checkers know, with their human descriptions, and the options a scenario
 * passes to pick its set. Defaults live here and nowhere else.
 */
import type { Consistency } from '../record/history.ts';
import type { AuditRecord, MetricsScrape, StoreSnapshot } from './types.ts';

export const INVARIANTS = {
  'no-lost-writes':
    'Every acknowledged turn is in the last later read of its session: in the window if its position is still inside it, otherwise counted in turnCount.',
  'no-phantom-writes':
    'No read shows a turn unless an append of it that succeeded or timed out had been sent before the read ended.',
  'no-duplicates':
    'No turn is applied twice: no window holds one turn id twice, no turn id is acknowledged as applied twice, no append moves turnCount by two.',
  'no-divergence':
    "All reads of a session are prefix-compatible: aligned on turnCount, two reads never show different turns at the same position.",
  'read-your-writes':
    "A client's read reflects its own acknowledged appends (strong reads always; bounded reads once the staleness bound has passed).",
  'monotonic-reads': "A client's later read never shows fewer turns than its earlier read (strong always; bounded beyond the bound).",
  'monotonic-writes': "A client's acknowledged appends are ordered in the session as the client made them.",
  'writes-follow-reads': "A client's append is ordered after every turn that client had read before sending it.",
  'bounded-staleness':
    'Bounded reads are never older than the staleness bound: no bounded read misses a state acknowledged more than the bound before it started.',
  'no-stale-strong-reads': 'A strong read never misses a state that was acknowledged or read before it started (linearizable reads).',
  'no-schema-regression':
    "A session's schemaVersion never goes backwards: no answer shows a lower version than one completed before it started.",
  'final-schema-version': "Every session touched ends at the expected (newest) schema version.",
  'cas-respected':
    'Appends are atomic: an If-Match append applies only as revision If-Match+1, and no two turns are acknowledged with the same revision.',
  'degradation-flagged':
    'Every answer says its mode (X-State-Mode), and header and body agree: no degraded answer passes as normal.',
  'no-store-5xx': "No answer is a 5xx other than the contract's 503 (a store failure is never a bare 500).",
  'audit-agrees': "The service's audit trail agrees with the client's history: every acknowledged turn applied once, nothing applied that the client saw fail.",
  'store-agrees':
    'The store snapshot agrees with the history and audit: every acknowledged turn counted (and in the window if it should be), nothing unknown stored, every key has a TTL and fits the size cap.',
  'metrics-agree':
    "The service's /metrics agree with what the client saw: state metrics present, conflict and degraded counters match, migrations and state sizes recorded.",
} as const;

export type InvariantName = keyof typeof INVARIANTS;

/** What checkHistory runs when a scenario names no set: every history-only invariant that needs no extra input. */
export const DEFAULT_INVARIANTS: readonly InvariantName[] = [
  'no-lost-writes',
  'no-phantom-writes',
  'no-duplicates',
  'no-divergence',
  'read-your-writes',
  'monotonic-reads',
  'monotonic-writes',
  'writes-follow-reads',
  'bounded-staleness',
  'no-schema-regression',
  'cas-respected',
  'degradation-flagged',
  'no-store-5xx',
];

/** A session that existed before the run (seeded straight into the store): its turns need no append. */
export interface SeededSession {
  tenant?: string;
  session: string;
  turnIds: string[];
}

export interface CheckOptions {
  /** Invariants to evaluate; default DEFAULT_INVARIANTS plus audit/store/metrics ones when their input is given. */
  invariants?: readonly InvariantName[];
  /** Turns the service keeps in the window (its --window-turns). Default 10. */
  windowTurns?: number;
  /** Consistency of reads that name none. Default 'strong' (the contract's default). */
  readMode?: Consistency;
  /** The bounded read mode's staleness bound in ms (the service's --bounded-staleness-ms). Default 5000. */
  stalenessBoundMs?: number;
  /** Session TTL in ms: a session idle longer than this may be gone, which starts a new session epoch. */
  sessionTtlMs?: number;
  /** For final-schema-version: the version every touched session must end at. */
  expectedSchemaVersion?: number;
  /** Which 503s no-store-5xx accepts (the contract's "cannot be made durable"). Default 'all'. */
  allow503?: 'all' | 'appends' | 'none';
  /** Sessions seeded before the run (e.g. v1 sessions written straight into Redis). */
  seeded?: readonly SeededSession[];
  /** Anomalies listed per invariant; the rest are summarised in one closing anomaly. Default 100. */
  maxAnomaliesPerInvariant?: number;
  /** For audit-agrees / store-agrees. */
  audit?: AuditRecord[];
  store?: StoreSnapshot[];
  /** For store-agrees: the size cap in bytes (the service's --max-state-bytes). */
  maxStateBytes?: number;
  /** For metrics-agree: scrapes per instance lifetime. */
  metrics?: MetricsScrape[];
  /** For metrics-agree: least number of migrate lifecycle events the run must have caused. */
  expectedMigrationsMin?: number;
}

export interface ResolvedOptions {
  windowTurns: number;
  readMode: Consistency;
  stalenessBoundMs: number;
  sessionTtlMs: number | undefined;
  allow503: 'all' | 'appends' | 'none';
}

export const DEFAULTS = {
  windowTurns: 10,
  readMode: 'strong' as Consistency,
  stalenessBoundMs: 5000,
  allow503: 'all' as const,
  maxAnomaliesPerInvariant: 100,
};

export function resolveOptions(opts: CheckOptions): ResolvedOptions {
  const windowTurns = opts.windowTurns ?? DEFAULTS.windowTurns;
  if (!Number.isInteger(windowTurns) || windowTurns < 1) throw new RangeError(`windowTurns must be an integer >= 1, got ${windowTurns}`);
  const stalenessBoundMs = opts.stalenessBoundMs ?? DEFAULTS.stalenessBoundMs;
  if (!(stalenessBoundMs >= 0)) throw new RangeError(`stalenessBoundMs must be >= 0, got ${stalenessBoundMs}`);
  return {
    windowTurns,
    readMode: opts.readMode ?? DEFAULTS.readMode,
    stalenessBoundMs,
    sessionTtlMs: opts.sessionTtlMs,
    allow503: opts.allow503 ?? DEFAULTS.allow503,
  };
}
