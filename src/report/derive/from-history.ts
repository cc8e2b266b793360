/**
 * Derive the measured parts of a result (totals, per-second series, HDR snapshots per op / phase /
 * instance) from a history, for producers that have a history but not these figures. Pure functions
 * of their input: the same history gives the same result.json.
 *
 * Latency: "corrected" is end − intended start (an arrival-rate executor's stall shows up here);
 * "service" is end − actual send.
 */
import type { HistoryEntry } from '../../record/history.ts';
import type { HdrSnapshot, Metrics, SeriesPoint, TimelineEntry } from '../result-schema.ts';
import { LatencyHistogram, latencyUs } from '../../record/hdr.ts';
import { faultWindows, phaseAt } from './phases.ts';

type Kind = HdrSnapshot['kind'];
type Totals = Metrics['totals'];

function emptyTotals(): Totals {
  return { count: 0, ok: 0, fail: 0, unknown: 0, degraded: 0 };
}

function addTo(t: Totals, e: HistoryEntry): void {
  t.count++;
  t[e.outcome]++;
  if (e.mode === 'degraded') t.degraded++;
}

export function latencyMs(e: HistoryEntry, kind: Kind): number {
  return Math.max(0, e.endMs - (kind === 'corrected' ? e.intendedStartMs : e.startMs));
}

export function metricsFromHistory(history: readonly HistoryEntry[], opts: { startedAtMs: number; endedAtMs: number; intervalMs?: number }): Metrics {
  const intervalMs = opts.intervalMs ?? 1000;
  const totals = emptyTotals();
  const byOp: Record<string, Totals> = {};
  const byStatus: Record<string, number> = {};
  const buckets = new Map<number, { t: Totals; h: LatencyHistogram }>();
  for (const e of history) {
    addTo(totals, e);
    addTo((byOp[e.op] ??= emptyTotals()), e);
    byStatus[String(e.status)] = (byStatus[String(e.status)] ?? 0) + 1;
    const b = Math.max(0, Math.floor((e.endMs - opts.startedAtMs) / intervalMs));
    let slot = buckets.get(b);
    if (!slot) buckets.set(b, (slot = { t: emptyTotals(), h: new LatencyHistogram() }));
    addTo(slot.t, e);
    slot.h.recordUs(latencyUs(latencyMs(e, 'corrected')));
  }
  const lastBucket = Math.max(Math.ceil((opts.endedAtMs - opts.startedAtMs) / intervalMs) - 1, ...buckets.keys(), 0);
  const points: SeriesPoint[] = [];
  for (let b = 0; b <= lastBucket; b++) {
    const slot = buckets.get(b);
    const at = (p: number) => (slot && slot.t.count > 0 ? slot.h.histogram.getValueAtPercentile(p) / 1000 : null);
    points.push({
      offsetMs: b * intervalMs,
      requests: slot?.t.count ?? 0,
      ok: slot?.t.ok ?? 0,
      errors: slot ? slot.t.fail + slot.t.unknown : 0,
      degraded: slot?.t.degraded ?? 0,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: slot && slot.t.count > 0 ? slot.h.histogram.maxValue / 1000 : null,
    });
  }
  const durationSec = Math.max(1e-3, (opts.endedAtMs - opts.startedAtMs) / 1000);
  return {
    totals,
    byOp: sortKeys(byOp),
    byStatus: sortKeys(byStatus),
    throughputPerSec: totals.count / durationSec,
    errorRate: totals.count === 0 ? 0 : (totals.fail + totals.unknown) / totals.count,
    droppedIterations: 0,
    series: { intervalMs, points },
  };
}

/**
 * HDR snapshots: op × phase (instance "all") and instance × phase (op "all"), each with the "all"
 * rollups, both kinds. That covers every view the report draws without the full cross product.
 */
export function latencyFromHistory(history: readonly HistoryEntry[], timeline: readonly TimelineEntry[]): HdrSnapshot[] {
  const windows = faultWindows(timeline);
  const hists = new Map<string, { key: Pick<HdrSnapshot, 'op' | 'phase' | 'instance' | 'kind'>; h: LatencyHistogram }>();
  const put = (op: string, phase: string, instance: string, kind: Kind, ms: number) => {
    const id = `${op}\u0000${phase}\u0000${instance}\u0000${kind}`;
    let slot = hists.get(id);
    if (!slot) hists.set(id, (slot = { key: { op, phase, instance, kind }, h: new LatencyHistogram() }));
    slot.h.recordUs(latencyUs(ms));
  };
  for (const e of history) {
    const phase = phaseAt(e.intendedStartMs, windows);
    const instance = e.instance ?? 'unknown';
    for (const kind of ['corrected', 'service'] as const) {
      const ms = latencyMs(e, kind);
      for (const ph of ['all', phase]) {
        put('all', ph, 'all', kind, ms);
        put(e.op, ph, 'all', kind, ms);
        put('all', ph, instance, kind, ms);
      }
    }
  }
  return [...hists.values()]
    .map(({ key, h }) => ({ ...key, ...h.encode() }))
    .sort((a, b) => cmp(a.op, b.op) || cmp(a.phase, b.phase) || cmp(a.instance, b.instance) || cmp(a.kind, b.kind));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys<V>(o: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => cmp(a, b)));
}
