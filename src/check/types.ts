/**
 * Shapes the checkers read and produce. `InvariantResult` and `Anomaly` are exactly the shapes of
 * INTERFACES.md section 4 (the report's zod schema is strict, so nothing extra goes in them);
 * counts and measurements travel beside them in `CheckReport.stats`.
 */
import type { Consistency } from '../record/history.ts';
import type { AuditRecord } from '../contract/audit.ts';

export type { AuditRecord };

export interface Anomaly {
  type: string;
  /** `tenant/session` when the history names tenants, else the session id. */
  session?: string;
  message: string;
  /** History entry ids that prove it (audit line numbers / snapshot indexes are named in the message). */
  ops: number[];
}

export type InvariantStatus = 'held' | 'violated' | 'not-applicable' | 'no-evidence' | 'waived';

export interface InvariantResult {
  /** Stable machine name, e.g. `no-lost-writes`. */
  name: string;
  /** Whether it counts as a pass: held, not applicable or waived. */
  holds: boolean;
  description: string;
  anomalies: Anomaly[];
  /** Set by judgeEvidence (src/check/evidence.ts); absent in results written before it existed. */
  status?: InvariantStatus;
  /** What was checked, e.g. "1,204 acknowledged writes in 300 sessions". */
  evidence?: string;
  /** Why it is not applicable or waived. */
  reason?: string;
}

/** What the store holds for one session after the run (read straight from Redis). */
export interface StoreSnapshot {
  tenant: string;
  session: string;
  schemaVersion: number;
  revision: number;
  turnCount: number;
  /** Turn ids in the retained window, oldest first. */
  turnIds: string[];
  /** Size of the stored value in bytes. */
  bytes: number;
  /** Redis TTL: -1 no expiry, -2 no such key. */
  ttlSeconds: number;
}

/** /metrics scrapes of one instance lifetime: counters are summed as (after - before) over entries. */
export interface MetricsScrape {
  instance: string;
  /** Text scraped before the run (absent: the instance started during the run, counters from 0). */
  before?: string;
  after: string;
}

/** When one fault of the plan was applied, as the chaos runner observed it. */
export interface FaultWindow {
  id: string;
  /** Network and store faults are what the budget is about; process faults are judged elsewhere. */
  family?: string;
  startMs: number;
  endMs: number;
}

export interface RecoveryMeasure {
  faultId: string;
  /** From the fault's actual end to the first run of healthy answers; null = never within the run. */
  timeToRecoverMs: number | null;
}

export interface StalenessStats {
  reads: number;
  /** Reads that returned a state older than one already acknowledged or read before they started. */
  staleReads: number;
  maxMs: number;
  p50Ms: number;
  p99Ms: number;
}

export interface CheckStats {
  entries: number;
  sessions: number;
  ops: Record<string, { ok: number; fail: number; unknown: number }>;
  /** Acknowledged turns and how the lost-write check could verify them. */
  acknowledgedTurns: {
    total: number;
    seenInWindow: number;
    countedOnly: number;
    unverified: number;
    lost: number;
  };
  /** Measured staleness per read consistency (non-degraded reads only). */
  staleness: Partial<Record<Consistency, StalenessStats>>;
  degradedResponses: number;
  revisionConflicts: number;
  /** Time to recover per fault window, when fault windows were given. */
  recovery?: RecoveryMeasure[];
  /** What checkers counted as their evidence, by invariant name (see src/check/evidence.ts). */
  evidence?: Record<string, { count: number; text: string }>;
}

export interface CheckReport {
  holds: boolean;
  invariants: InvariantResult[];
  stats: CheckStats;
}

/** A state-health concept a backend may export metrics for (the backend profile's `metrics` keys). */
export type MetricConcept = 'opLatency' | 'stateSize' | 'conflicts' | 'cacheHits' | 'lifecycleEvents' | 'breakerState' | 'degradedResponses';

/** Per concept, the names to look for (the backend's own first) and whether the profile mapped it. */
export type MetricNameMap = Partial<Record<MetricConcept, { names: readonly string[]; mapped: boolean }>>;
