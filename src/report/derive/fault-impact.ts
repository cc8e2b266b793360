/**
 * Blast radius and time to recover per fault, from the history and the per-second series.
 *
 * Blast radius: what the operations intended while the fault was applied saw (failures, unknown
 * outcomes, 503 refusals among them, degraded answers, sessions and instances touched) and their p99 against the same
 * length of time just before the fault.
 *
 * Time to recover: from the fault's actual end to the start of the first interval after which
 * RECOVERY_INTERVALS consecutive intervals (or the rest of the run, if shorter) are back at the
 * before-fault level: error rate within max(2 × baseline, baseline + 1 %) and p99 within
 * max(2 × baseline, baseline + 5 ms). Generous on purpose: "recovered" means back to normal,
 * not back to the exact same noise.
 */
import type { HistoryEntry } from '../../record/history.ts';
import type { FaultImpact, Metrics, TimelineEntry } from '../result-schema.ts';
import { LatencyHistogram, latencyUs } from '../../record/hdr.ts';
import { latencyMs } from './from-history.ts';

export const RECOVERY_INTERVALS = 3;
const BASELINE_MIN_MS = 5000;

export function faultImpacts(
  history: readonly HistoryEntry[],
  timeline: readonly TimelineEntry[],
  metrics: Metrics,
  startedAtMs: number,
): FaultImpact[] {
  return timeline.map((t) => impactOf(history, t, metrics, startedAtMs));
}

function p99Ms(entries: readonly HistoryEntry[]): number | null {
  if (entries.length === 0) return null;
  const h = new LatencyHistogram();
  for (const e of entries) h.recordUs(latencyUs(latencyMs(e, 'corrected')));
  return h.histogram.getValueAtPercentile(99) / 1000;
}

function impactOf(history: readonly HistoryEntry[], t: TimelineEntry, metrics: Metrics, startedAtMs: number): FaultImpact {
  const startMs = t.actualStartMs ?? t.plannedStartMs;
  const endMs = t.actualEndMs ?? t.plannedEndMs;
  const baseLenMs = Math.max(BASELINE_MIN_MS, endMs - startMs);
  const during = history.filter((e) => e.intendedStartMs >= startMs && e.intendedStartMs <= endMs);
  const before = history.filter((e) => e.intendedStartMs >= startMs - baseLenMs && e.intendedStartMs < startMs);
  const bad = (e: HistoryEntry) => e.outcome !== 'ok' || e.mode === 'degraded';
  const failed = during.filter((e) => e.outcome === 'fail').length;
  const unknown = during.filter((e) => e.outcome === 'unknown').length;
  const refused = during.filter((e) => e.status === 503).length;
  const degraded = during.filter((e) => e.mode === 'degraded').length;
  const hit = during.filter(bad);
  const p99Before = p99Ms(before);
  const baseErrRate = before.length === 0 ? 0 : before.filter((e) => e.outcome !== 'ok').length / before.length;
  const ttr = timeToRecoverMs(metrics, endMs - startedAtMs, baseErrRate, p99Before);
  return {
    faultId: t.id,
    ops: during.length,
    failed,
    unknown,
    refused,
    degraded,
    errorRate: during.length === 0 ? 0 : (failed + unknown) / during.length,
    affectedSessions: new Set(hit.map((e) => `${e.tenant ?? ''}/${e.session}`)).size,
    affectedInstances: [...new Set(hit.map((e) => e.instance).filter((i): i is string => i !== undefined))].sort(),
    p99BeforeMs: p99Before,
    p99DuringMs: p99Ms(during),
    timeToRecoverMs: ttr,
    recovered: ttr !== null,
  };
}

export function timeToRecoverMs(metrics: Metrics, faultEndOffsetMs: number, baseErrRate: number, baseP99Ms: number | null): number | null {
  const { intervalMs, points } = metrics.series;
  const errLimit = Math.max(2 * baseErrRate, baseErrRate + 0.01);
  const p99Limit = baseP99Ms === null ? Infinity : Math.max(2 * baseP99Ms, baseP99Ms + 5);
  const healthy = points.map((p) => p.requests > 0 && p.errors / p.requests <= errLimit && (p.p99Ms ?? 0) <= p99Limit);
  const first = Math.max(0, Math.floor(faultEndOffsetMs / intervalMs));
  for (let i = first; i < points.length; i++) {
    const window = healthy.slice(i, i + RECOVERY_INTERVALS);
    if (window.length > 0 && window.every(Boolean)) {
      return Math.max(0, (points[i]?.offsetMs ?? 0) - faultEndOffsetMs);
    }
  }
  return null;
}
