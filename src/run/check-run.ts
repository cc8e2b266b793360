/**
 * The check stage: the scenario's invariants, looked up in the checkers' registry and evaluated
 * over the history and the witnesses in one pass of checkHistory, or, for a history that spilled
 * to disk, of checkPartitioned (one partition in memory at a time).
 *
 * On an external backend a witness the user gave no access to is not consulted: the invariants
 * that need it are listed as not checked rather than failed or passed blind. On a topology the
 * harness started, a missing witness is the harness's own failure, and the checker says so.
 */
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import { checkHistory, isInvariantName, unmetNeeds, type CheckInputs, type CheckReport, type FaultWindow, type InvariantResult, type Need } from '../check/index.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { Witnesses } from './witnesses.ts';
import { addEvidenceCounts, evidenceCounts, judgeEvidence, type EvidenceCounts } from '../check/evidence.ts';
import { checkPartitionedWith, type HistoryPartitions } from '../check/partitioned-check.ts';
import { METRIC_CONCEPTS, type MetricConcept, type ResolvedProfile } from '../backend/profile.ts';

/** The schema version the migration scenario's rolling deploy ends at. */
const NEWEST_SCHEMA_VERSION = 3;

const WITNESS_ACCESS: Partial<Record<Need, string>> = { audit: 'audit trail', store: 'store (see --redis-url)', metrics: 'metrics' };

export interface CheckedRun {
  /** In the order the scenario names them; a name no checker knows is a failed invariant. */
  invariants: InvariantResult[];
  /** Named invariants left unchecked for a witness the backend did not give. */
  unchecked: string[];
  stats: CheckReport['stats'];
  /**
   * A spilled history's entries in id order without their windows and summaries (the
   * partitioned check's slim copy): what the rest of the run reads (latency, metrics, faults).
   */
  slim?: readonly HistoryEntry[];
}

export interface CheckRunInput {
  spec: ScenarioSpec | undefined;
  /** In memory, or in partitions of whole sessions (a spilled history). */
  history: readonly HistoryEntry[] | HistoryPartitions;
  witnesses: Witnesses;
  faultWindows: FaultWindow[];
  external: boolean;
  log: (line: string) => void;
  /** The backend profile of an external backend: its declared bounds replace the scenario's. */
  backend?: ResolvedProfile;
  /** Tenants the scenario's traffic used. */
  tenants?: number;
  /** Invariants this backend has no witness for, each with the reason (an adapter's audit trail, its store layout). */
  unreachable?: Readonly<Record<string, string>>;
  /** Requests whose answers the engine threw away when the run stopped (EngineResult.requestsAbandoned). */
  abandonedRequests?: number;
}

export function checkRun({ spec, history, witnesses, faultWindows, external, log, backend, tenants = 1, unreachable: noWitness = {}, abandonedRequests }: CheckRunInput): CheckedRun {
  const check = spec?.check ?? {};
  // An external backend is judged by what it declares; the scenario's settings are what the
  // harness gives its own service. Undeclared: the contract's minimum (trust the window a read
  // returns, no TTL, no cap).
  const b = backend?.bounds;
  const ttlSeconds = b ? b.ttlSeconds : check.ttlSeconds;
  const given: CheckInputs = {
    windowTurns: b ? (b.windowTurns ?? 1) : check.windowTurns,
    stalenessBoundMs: b ? b.stalenessBoundMs : check.stalenessBoundMs,
    sessionTtlMs: typeof ttlSeconds === 'number' ? ttlSeconds * 1000 : undefined,
    noTtl: b ? (b.ttlSeconds === null ? 'none' : b.ttlSeconds === undefined ? 'undeclared' : undefined) : undefined,
    maxStateBytes: b ? b.maxStateBytes : check.maxStateBytes,
    metricNames: backend ? metricNamesOf(backend) : undefined,
    // On disk, the trail is handed to the partitioned check beside the history (below).
    audit: witnesses.audit.length ? witnesses.audit : undefined,
    store: witnesses.store,
    metrics: witnesses.scrapes,
    abandonedRequests,
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
  const options = { ...given, invariants: named.length ? named.filter(isInvariantName) : undefined };
  let report: CheckReport;
  let counted: readonly HistoryEntry[] | EvidenceCounts;
  let slim: readonly HistoryEntry[] | undefined;
  if (isPartitions(history)) {
    let counts = evidenceCounts([]);
    const auditParts = witnesses.auditParts;
    const r = checkPartitionedWith(history, options, { keepSlim: true, ...(auditParts ? { auditParts } : {}), onPartition: (entries) => void (counts = addEvidenceCounts(counts, evidenceCounts(entries))) });
    report = r.report;
    slim = r.slim;
    counted = counts;
  } else {
    if (witnesses.auditParts) throw new Error('checkRun: an audit trail on disk beside a history in memory');
    report = checkHistory(history, options);
    counted = history;
  }
  const invariants = [...report.invariants];
  for (const n of named.filter((x) => !isInvariantName(x))) {
    invariants.push({ name: n, holds: false, description: 'An invariant the scenario names but this harness does not know.', anomalies: [{ type: 'unknown-invariant', message: `no checker is named "${n}"`, ops: [] }] });
  }
  const declared = new Set<string>();
  if (typeof b?.ttlSeconds === 'number') declared.add('idle-expired');
  if (b?.maxStateBytes !== undefined) declared.add('bytes-within-cap');
  if (b?.maxTurnBytes !== undefined) declared.add('oversized-rejected');
  if (b?.stalenessBoundMs !== undefined) declared.add('bounded-staleness');
  const unreachable: Record<string, string> = { ...noWitness };
  if (typeof ttlSeconds === 'number' && check.maxIdleWaitSeconds !== undefined && ttlSeconds + 3 > check.maxIdleWaitSeconds)
    unreachable['idle-expired'] = `the TTL (${ttlSeconds} s) is longer than this run waits for idle sessions (${check.maxIdleWaitSeconds} s): run --profile full, or probe it with stateproof backend check`;
  if (b && b.maxStateBytes === undefined) unreachable['bytes-within-cap'] = 'no size cap declared (bounds.maxStateBytes); no-unbounded-growth measures growth instead';
  if (b && b.maxTurnBytes === undefined) unreachable['oversized-rejected'] = 'no per-turn limit declared (bounds.maxTurnBytes)';
  if (b && backend!.capabilities.schemaVersions.length === 0) unreachable['final-schema-version'] = 'the backend declares no schema versions (capabilities.schemaVersions)';
  const judged = judgeEvidence(invariants, {
    history: counted,
    faultsInjected: faultWindows.length,
    capabilities: backend?.capabilities,
    waive: backend?.waive,
    tenants,
    measured: report.stats.evidence,
    declared,
    unreachable,
  });
  return { invariants: judged, unchecked, stats: report.stats, ...(slim ? { slim } : {}) };
}

function isPartitions(h: readonly HistoryEntry[] | HistoryPartitions): h is HistoryPartitions {
  return !Array.isArray(h);
}

function metricNamesOf(backend: ResolvedProfile): NonNullable<CheckInputs['metricNames']> {
  const out: NonNullable<CheckInputs['metricNames']> = {};
  for (const concept of Object.keys(METRIC_CONCEPTS) as MetricConcept[]) {
    const m = backend.metrics[concept];
    out[concept] = { names: m.names, mapped: m.names[0] !== METRIC_CONCEPTS[concept] };
  }
  return out;
}
