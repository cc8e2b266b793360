/** The checkers' public API: see README "## Checkers". */
export { checkHistory, type CheckOptions } from './check-history.ts';
export { checkPartitioned, partitionInMemory, partitionKey, partitionOf, type HistoryPartitions } from './partitioned-check.ts';
export { DEFAULT_INVARIANTS, INVARIANTS, invariantSpec, isInvariantName, unmetNeeds, type InvariantName, type InvariantSpec, type Need } from './invariants.ts';
export { DEFAULTS, type CheckInputs, type SeededSession } from './options.ts';
export { parseAuditLog, reconcileAudit, reconcileStore, SEED_PHASE, type StoreReconcileOptions } from './reconcile.ts';
export { crossCheckMetrics, REQUIRED_METRICS, type MetricsCrossCheckOptions } from './metrics-cross-check.ts';
export { parsePrometheusText, sumSamples, type MetricFamily, type Sample } from './prom-text.ts';
export { ELLE_MAX_BYTES, elleLines, exportElle, writeElle, type ElleExport, type ElleExportOptions, type ElleWriteOptions, type ElleWritten } from './elle-export.ts';
export type { Anomaly, AuditRecord, CheckReport, CheckStats, FaultWindow, InvariantResult, MetricsScrape, RecoveryMeasure, StalenessStats, StoreSnapshot } from './types.ts';
export { judgeEvidence, type Capabilities, type EvidenceContext } from './evidence.ts';
export { CONTRACT_COVERAGE, type ContractPromise } from './contract-coverage.ts';
