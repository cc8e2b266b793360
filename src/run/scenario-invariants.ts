/**
 * The invariants a scenario names that are not history checkers of src/check (they need the fault
 * timeline, the store snapshot or the scenario's own conventions). Each name maps to one function
 * in src/check/scenario/.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { InvariantResult, StoreSnapshot } from '../check/types.ts';
import { checkFaultLatency, checkRecovery, type FaultWindow, type RecoveryMeasure } from '../check/scenario/fault-windows.ts';
import { checkBytesWithinCap, checkIdleExpired, checkLatencyFlat, checkOversizedRejected, checkPinnedFacts, checkTtlSet } from '../check/scenario/bounded-growth.ts';
import { checkDivergenceAfterFailover, checkFailoverLoss, failoverFromWindows } from '../check/scenario/failover-loss.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import type { SnapshotExtras } from './store-snapshot.ts';

export const SCENARIO_INVARIANTS = ['fault-p99-within-budget', 'recovers-within-5s', 'bytes-within-cap', 'ttl-set', 'idle-expired', 'oversized-rejected', 'pinned-facts-kept', 'latency-flat', 'failover-loss-window', 'no-divergence-after-failover'] as const;

export interface ScenarioInvariantInput {
  history: readonly HistoryEntry[];
  store: readonly StoreSnapshot[];
  windows: readonly FaultWindow[];
  check: NonNullable<ScenarioSpec['check']>;
  extras?: SnapshotExtras;
}

export function scenarioInvariants(names: readonly string[], input: ScenarioInvariantInput): { invariants: InvariantResult[]; recovery: RecoveryMeasure[] } {
  const out: InvariantResult[] = [];
  const recovery = checkRecovery(input.history, input.windows);
  const { check } = input;
  for (const name of names) {
    switch (name) {
      case 'fault-p99-within-budget':
        out.push(checkFaultLatency(input.history, input.windows, check.storeTimeoutMs ?? 100));
        break;
      case 'recovers-within-5s':
        out.push(recovery.result);
        break;
      case 'bytes-within-cap':
        out.push(checkBytesWithinCap(input.history, input.store, check.maxStateBytes ?? 51_200));
        break;
      case 'ttl-set':
        out.push(checkTtlSet(input.store));
        break;
      case 'idle-expired':
        out.push(checkIdleExpired(input.history, check.idleSessionPrefix ?? 'idle-', check.ttlSeconds ?? 86_400));
        break;
      case 'oversized-rejected':
        out.push(checkOversizedRejected(input.history));
        break;
      case 'pinned-facts-kept':
        out.push(checkPinnedFacts(input.history));
        break;
      case 'latency-flat':
        out.push(checkLatencyFlat(input.history, { baselineSuffix: check.baselineSuffix }).result);
        break;
      case 'failover-loss-window':
        out.push(checkFailoverLoss(input.history, failoverFromWindows(input.windows)));
        break;
      case 'no-divergence-after-failover':
        out.push(checkDivergenceAfterFailover(input.history, failoverFromWindows(input.windows), check.windowTurns));
        break;
    }
  }
  return { invariants: out, recovery: recovery.measures };
}
