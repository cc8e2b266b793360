/**
 * One operation the load made against a backend, as the checkers read it (Jepsen-style history).
 *
 * Times are wall-clock milliseconds since the Unix epoch (fractional), so entries from several
 * processes (k6 VUs, built-in engine, several machines) sort on one axis.
 *
 * Outcome: `ok` the backend acknowledged it; `fail` it definitely did not happen (a 4xx, or a 503
 * that the contract says was not made durable); `unknown` it may or may not have happened (timeout,
 * connection reset, 5xx other than a contract 503). Checkers must treat `unknown` writes as
 * possibly applied.
 */
import type { Consistency, Op, StateMode } from '../contract/wire.ts';

export type { Consistency, Op, StateMode };
export type Outcome = 'ok' | 'fail' | 'unknown';

export interface HistoryEntry {
  /** Unique within a run; assigned by the recorder. */
  id: number;
  /** k6 VU id in test (1-based); 0 for setup/teardown. */
  vu: number;
  op: Op;
  session: string;
  /** Tenant the bearer token names, when the scenario uses more than one. */
  tenant?: string;
  /** For appends: the client-unique idempotency key. */
  turnId?: string;
  /** For conditional appends: the If-Match revision sent. */
  ifMatch?: number;
  /** For reads: the consistency asked for. */
  consistency?: Consistency;
  /** When the executor meant to start it (arrival-rate executors); equals startMs otherwise. */
  intendedStartMs: number;
  startMs: number;
  endMs: number;
  outcome: Outcome;
  /** HTTP status; 0 when no response came (timeout, reset, refused). */
  status: number;
  /** problem+json `code`, or a transport error name. */
  code?: string;
  revision?: number;
  turnCount?: number;
  /** Reads: turn ids in the retained window, oldest first. */
  turnIds?: string[];
  /** Appends: whether the turn was applied (false on an idempotent replay). */
  applied?: boolean;
  mode?: StateMode;
  /**
   * The body's `mode` when the recorder keeps it apart from the X-State-Mode header (`mode`);
   * the degradation-flagged checker reports any disagreement.
   */
  bodyMode?: StateMode;
  schemaVersion?: number;
  /** Which instance served it (router header), when known. */
  instance?: string;
  /** Reads: stored state size the backend reported. */
  bytes?: number;
  /** Reads that asked for it: the session's summary text (pinned facts live there). */
  summary?: string;
  /** Scenario phase label, e.g. the active fault's id, when the scenario knows it. */
  phase?: string;
}
