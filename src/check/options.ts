/**
 * What the checkers are given besides the history: bounds, witnesses of the run, the fault
 * windows. Defaults live here and nowhere else. (Which invariants exist, and which of these each
 * one needs, is the registry's: invariants.ts.)
 */
import type { Consistency } from '../record/history.ts';
import type { AuditRecord, FaultWindow, MetricNameMap, MetricsScrape, StoreSnapshot } from './types.ts';

/** A session that existed before the run (seeded straight into the store): its turns need no append. */
export interface SeededSession {
  tenant?: string;
  session: string;
  turnIds: string[];
}

export interface CheckInputs {
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
  /** For store-agrees and bytes-within-cap: the size cap in bytes (the service's --max-state-bytes). */
  maxStateBytes?: number;
  /** For metrics-agree: scrapes per instance lifetime. */
  metrics?: MetricsScrape[];
  /** For metrics-agree: least number of migrate lifecycle events the run must have caused. */
  expectedMigrationsMin?: number;
  /**
   * For metrics-agree: requests the client sent and threw the answer of away when the run stopped
   * (an interrupted run): the service may have counted them, as it may a request that got no answer.
   */
  abandonedRequests?: number;
  /** For metrics-agree: the backend profile's metric names (absent: the reference service's names are required). */
  metricNames?: MetricNameMap;
  /** For idle-expired: the backend declares no TTL (null) or none was declared; idle sessions are then expected to linger, and that is the finding. */
  noTtl?: 'none' | 'undeclared';
  /** For the fault invariants: when each fault of the plan was applied. */
  faultWindows?: readonly FaultWindow[];
  /** For fault-p99-within-budget: the service's store timeout budget in ms (its --store-timeout-ms). */
  storeTimeoutMs?: number;
  /** For idle-expired: sessions the scenario created and then left idle have ids starting with this. */
  idleSessionPrefix?: string;
  /**
   * Whether the run's history names tenants, which decides how audit records and store keys are
   * matched to it (default: whether any entry has a tenant). A check of part of a history passes
   * the whole history's answer.
   */
  tenanted?: boolean;
  /** For latency-flat: <session><suffix> is the companion session grown beside <session> (see checkLatencyFlat). */
  baselineSuffix?: string;
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
  /** bytes-within-cap's cap when no maxStateBytes is given: the reference service's default. */
  capBytes: 51_200,
  storeTimeoutMs: 100,
  idleSessionPrefix: 'idle-',
  /** idle-expired's TTL when no sessionTtlMs is given: a day. */
  idleTtlMs: 86_400_000,
};

export function resolveOptions(opts: CheckInputs): ResolvedOptions {
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
