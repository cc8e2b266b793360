/**
 * Invariants about behaviour while a fault is applied and just after: the service answers within
 * its timeout budget, and comes back to normal soon after the store does. They read the history
 * and the chaos runner's timeline of what was actually applied, when.
 */
import type { HistoryEntry } from '../../record/history.ts';
import type { FaultWindow, InvariantResult, RecoveryMeasure } from '../types.ts';
import { percentile } from '../sessions.ts';

const serviceMs = (e: HistoryEntry) => e.endMs - e.startMs;

/** p99 of the answer time of operations sent during each fault ≤ the store timeout budget + slack. */
export function checkFaultLatency(history: readonly HistoryEntry[], windows: readonly FaultWindow[], budgetMs: number, slackMs = 50): InvariantResult {
  const limitMs = budgetMs + slackMs;
  const anomalies = [];
  for (const w of windows) {
    const during = history.filter((e) => e.startMs >= w.startMs && e.startMs < w.endMs);
    if (during.length === 0) continue;
    const observed = percentile(during.map(serviceMs).sort((a, b) => a - b), 99);
    if (observed > limitMs) {
      const slowest = [...during].sort((a, b) => serviceMs(b) - serviceMs(a)).slice(0, 5);
      anomalies.push({
        type: 'fault-p99-over-budget',
        message: `during fault ${w.id}, p99 answer time was ${observed.toFixed(0)} ms over ${during.length} ops; the limit is the store timeout budget ${budgetMs} ms + ${slackMs} ms`,
        ops: slowest.map((e) => e.id),
      });
    }
  }
  return {
    name: 'fault-p99-within-budget',
    holds: anomalies.length === 0,
    description: `While a store fault is applied, p99 of answer time stays within the service's store timeout budget + ${slackMs} ms: a slow or dead store must not make users wait.`,
    anomalies,
  };
}

/** Is this answer what "normal service" looks like: acknowledged, not degraded. */
const healthy = (e: HistoryEntry) => e.outcome === 'ok' && e.mode !== 'degraded';

/**
 * After each fault ends, the service must be back to normal (a run of healthy answers with nothing
 * unhealthy after its start) within `limitMs`. Measures time to recover per fault.
 */
export function checkRecovery(history: readonly HistoryEntry[], windows: readonly FaultWindow[], limitMs = 5_000): { result: InvariantResult; measures: RecoveryMeasure[] } {
  const sorted = [...history].sort((a, b) => a.startMs - b.startMs);
  const anomalies = [];
  const measures: RecoveryMeasure[] = [];
  for (const [i, w] of windows.entries()) {
    // Look until the next fault starts (or the run ends): that is this fault's recovery period.
    const horizon = windows[i + 1]?.startMs ?? Infinity;
    // Ops still in flight when the next fault began are that fault's, not this recovery's.
    const after = sorted.filter((e) => e.startMs >= w.endMs && e.endMs < horizon);
    // Recovered at the start of the first op from which every later op in the period is healthy.
    let lastBad = -1;
    after.forEach((e, k) => {
      if (!healthy(e)) lastBad = k;
    });
    const firstGood = after[lastBad + 1];
    const ttr = firstGood ? Math.max(0, firstGood.startMs - w.endMs) : null;
    measures.push({ faultId: w.id, timeToRecoverMs: ttr });
    if (after.length === 0) continue;
    if (ttr === null || ttr > limitMs) {
      const bad = after[lastBad];
      anomalies.push({
        type: 'slow-recovery',
        message:
          ttr === null
            ? `after fault ${w.id} ended, the service never returned to normal before the next period (last unhealthy answer: op ${bad?.id}, status ${bad?.status}, mode ${bad?.mode ?? 'none'})`
            : `after fault ${w.id} ended, normal service took ${(ttr / 1000).toFixed(1)} s to return; the limit is ${(limitMs / 1000).toFixed(0)} s`,
        ops: bad ? [bad.id] : [],
      });
    }
  }
  return {
    result: {
      name: 'recovers-within-5s',
      holds: anomalies.length === 0,
      description: `Once the store is back, normal (acknowledged, not degraded) answers return within ${limitMs / 1000} s and stay.`,
      anomalies,
    },
    measures,
  };
}
