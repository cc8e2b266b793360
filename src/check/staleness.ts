/**
 * Staleness of reads, measured from the history itself.
 *
 * A read that returned c turns is stale if, before it started, some operation had already
 * completed showing more than c turns (an acknowledged append, or a normal-mode read). Its
 * staleness is how long before the read started that happened:
 *
 *   staleness(read) = max(0, read.startMs - min{ end of an op that showed more than c turns })
 *
 * Bounded reads must keep this within the staleness bound; strong reads must keep it at 0.
 */
import type { Consistency, HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';
import { lowerBound, observationOf, percentile, type Observation, type SessionIndex } from './sessions.ts';
import type { Anomaly, StalenessStats } from './types.ts';

export interface Superseded {
  endMs: number;
  entryId: number;
}

/** For one epoch: the earliest completed op that showed at least k turns, for any k. */
export function supersessionIndex(epoch: readonly HistoryEntry[], opts: ResolvedOptions): (k: number) => Superseded | undefined {
  const pairs: Array<{ count: number; endMs: number; id: number }> = [];
  for (const e of epoch) {
    if (e.op === 'append') {
      if (e.outcome === 'ok' && e.turnCount !== undefined && e.mode !== 'degraded') pairs.push({ count: e.turnCount, endMs: e.endMs, id: e.id });
      continue;
    }
    const o = observationOf(e, opts);
    if (o && !o.degraded) pairs.push({ count: o.count, endMs: e.endMs, id: e.id });
  }
  pairs.sort((a, b) => a.count - b.count);
  const counts = pairs.map((p) => p.count);
  const suffixMin: Array<Superseded | undefined> = new Array(pairs.length + 1);
  suffixMin[pairs.length] = undefined;
  for (let i = pairs.length - 1; i >= 0; i--) {
    const p = pairs[i]!;
    const next = suffixMin[i + 1];
    suffixMin[i] = next && next.endMs <= p.endMs ? next : { endMs: p.endMs, entryId: p.id };
  }
  return (k) => suffixMin[lowerBound(counts, k)];
}

export function stalenessOf(o: Observation, superseded: (k: number) => Superseded | undefined): { ms: number; by?: number } {
  const s = superseded(o.count + 1);
  if (!s || s.endMs >= o.entry.startMs) return { ms: 0 };
  return { ms: o.entry.startMs - s.endMs, by: s.entryId };
}

export interface StalenessResult {
  stats: Partial<Record<Consistency, StalenessStats>>;
  /** Bounded reads staler than the bound. */
  beyondBound: Anomaly[];
  /** Strong reads with any staleness. */
  staleStrong: Anomaly[];
  /** Every measured read's staleness in ms, sorted, per consistency: what `stats` is computed from. */
  samples: Record<Consistency, number[]>;
}

export function measureStaleness(sessions: readonly SessionIndex[], opts: ResolvedOptions): StalenessResult {
  const samples: Record<Consistency, number[]> = { strong: [], bounded: [], eventual: [] };
  const beyondBound: Anomaly[] = [];
  const staleStrong: Anomaly[] = [];
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const superseded = supersessionIndex(epoch, opts);
      for (const e of epoch) {
        const o = observationOf(e, opts);
        if (!o || o.degraded) continue;
        const st = stalenessOf(o, superseded);
        samples[o.consistency].push(st.ms);
        if (st.by === undefined) continue;
        const msg = `${o.consistency} read op ${e.id} returned ${o.count} turns, ${fmt(st.ms)} ms after op ${st.by} had shown more`;
        if (o.consistency === 'bounded' && st.ms > opts.stalenessBoundMs) {
          beyondBound.push({ type: 'stale-beyond-bound', session: s.key, message: `${msg} (bound ${opts.stalenessBoundMs} ms)`, ops: [st.by, e.id] });
        } else if (o.consistency === 'strong') {
          staleStrong.push({ type: 'stale-strong-read', session: s.key, message: msg, ops: [st.by, e.id] });
        }
      }
    }
  }
  for (const xs of Object.values(samples)) xs.sort((a, b) => a - b);
  return { stats: stalenessStats(samples), beyondBound, staleStrong, samples };
}

/** The per-consistency figures of sorted staleness samples (the percentiles need every sample, so histories checked apart merge their samples, not their figures). */
export function stalenessStats(samples: Record<Consistency, readonly number[]>): Partial<Record<Consistency, StalenessStats>> {
  const stats: Partial<Record<Consistency, StalenessStats>> = {};
  for (const mode of ['strong', 'bounded', 'eventual'] as const) {
    const xs = samples[mode];
    if (xs.length === 0) continue;
    stats[mode] = { reads: xs.length, staleReads: xs.length - upperZero(xs), maxMs: xs[xs.length - 1]!, p50Ms: percentile(xs, 50), p99Ms: percentile(xs, 99) };
  }
  return stats;
}

function upperZero(sorted: readonly number[]): number {
  return lowerBound(sorted, Number.MIN_VALUE);
}

export function fmt(ms: number): string {
  return ms.toFixed(ms < 10 ? 1 : 0);
}
