/**
 * The check stage: the scenario's invariants, looked up in the checkers' registry and evaluated
 * over the history and the witnesses in one pass of checkHistory.
 *
 * On an external backend a witness the user gave no access to is not consulted: the invariants
 * that need it are listed as not checked rather than failed or passed blind. On a topology the
 * harness started, a missing witness is the harness's own failure, and the checker says so.
 */
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { checkHistory, isInvariantName, unmetNeeds, type CheckInputs, type CheckReport, type FaultWindow, type InvariantResult, type Need } from '../check/index.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { Witnesses } from './witnesses.ts';

/** The schema version the migration scenario's rolling deploy ends at. */
const NEWEST_SCHEMA_VERSION = 3;

const WITNESS_ACCESS: Partial<Record<Need, string>> = { audit: 'audit trail', store: 'store (see --redis-url)', metrics: 'metrics' };

export interface CheckedRun {
  /** In the order the scenario names them; a name no checker knows is a failed invariant. */
  invariants: InvariantResult[];
  /** Named invariants left unchecked for a witness the backend did not give. */
  unchecked: string[];
  stats: CheckReport['stats'];
}

export interface CheckRunInput {
  spec: ScenarioSpec | undefined;
  history: readonly HistoryEntry[];
  witnesses: Witnesses;
  faultWindows: FaultWindow[];
  external: boolean;
  log: (line: string) => void;
}

export function checkRun({ spec, history, witnesses, faultWindows, external, log }: CheckRunInput): CheckedRun {
  const check = spec?.check ?? {};
  const given: CheckInputs = {
    windowTurns: check.windowTurns,
    stalenessBoundMs: check.stalenessBoundMs,
    sessionTtlMs: check.ttlSeconds !== undefined ? check.ttlSeconds * 1000 : undefined,
    maxStateBytes: check.maxStateBytes,
    audit: witnesses.audit.length ? witnesses.audit : undefined,
    store: witnesses.store,
    metrics: witnesses.scrapes,
    expectedSchemaVersion: spec?.invariants.includes('final-schema-version') ? NEWEST_SCHEMA_VERSION : undefined,
    faultWindows,
    storeTimeoutMs: check.storeTimeoutMs,
    idleSessionPrefix: check.idleSessionPrefix,
    baselineSuffix: check.baselineSuffix,
  };
  const unchecked: string[] = [];
  for (const n of spec?.invariants ?? []) {
    const missing = external && isInvariantName(n) ? unmetNeeds(n, given).find((need) => WITNESS_ACCESS[need] !== undefined) : undefined;
    if (!missing) continue;
    unchecked.push(n);
    log(`stateproof: not checking ${n}: this backend gives no access to its ${WITNESS_ACCESS[missing]}`);
  }
  const named = (spec?.invariants ?? []).filter((n) => !unchecked.includes(n));
  const report = checkHistory(history, { ...given, invariants: named.length ? named.filter(isInvariantName) : undefined });
  const invariants = [...report.invariants];
  for (const n of named.filter((x) => !isInvariantName(x))) {
    invariants.push({ name: n, holds: false, description: 'An invariant the scenario names but this harness does not know.', anomalies: [{ type: 'unknown-invariant', message: `no checker is named "${n}"`, ops: [] }] });
  }
  return { invariants, unchecked, stats: report.stats };
}
