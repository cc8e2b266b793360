/**
 * What the run learned about state itself, beside correctness: the service's state metrics as
 * scraped after the run (size histogram, conflicts, cache, lifecycle, breaker timeline) and how
 * stored bytes grew with turn count. Pure functions of the scrapes and the history.
 */
import { parsePrometheusText, sumSamples, type MetricFamily } from '../../check/prom-text.ts';
import { percentile } from '../../check/sessions.ts';
import type { MetricsScrape } from '../../check/types.ts';
import type { HistoryEntry } from '../../record/history.ts';
import type { RunResult } from '../result-schema.ts';

export type BreakerSample = { offsetMs: number; instance: string; state: 0 | 1 | 2 };

export function stateHealthFrom(scrapes: MetricsScrape[], breaker: BreakerSample[], unsafe: string[]): RunResult['stateHealth'] {
  const parsed = scrapes.map((s) => parsePrometheusText(s.after));
  const total = (family: string, match: Record<string, string> = {}, sampleName?: string) =>
    parsed.reduce((n, families) => n + sumSamples(families.get(family), match, sampleName), 0);
  const lifecycle: Record<string, number> = {};
  for (const event of ['create', 'expire', 'migrate', 'reject', 'degrade']) lifecycle[event] = total('stateproof_state_lifecycle_events_total', { event });
  const cache = ['local', 'replica'].map((tier) => ({
    tier,
    hit: total('stateproof_state_cache_total', { tier, result: 'hit' }),
    miss: total('stateproof_state_cache_total', { tier, result: 'miss' }),
  }));
  const present = parsed.some((families) => [...families.keys()].some((k) => k.startsWith('stateproof_')));
  return {
    sizeBytes: sizeHistogram(parsed, total),
    conflicts: total('stateproof_state_conflicts_total'),
    degradedResponses: total('stateproof_degraded_responses_total'),
    cache,
    breaker,
    lifecycle,
    notes: present ? [] : [`the service exposed no state metrics${unsafe.includes('observability') ? ' (--unsafe observability)' : ''}`],
  };
}

/** stateproof_state_size_bytes as scraped after the run, buckets summed over instances. */
function sizeHistogram(
  parsed: Array<Map<string, MetricFamily>>,
  total: (family: string, match?: Record<string, string>, sampleName?: string) => number,
): NonNullable<RunResult['stateHealth']>['sizeBytes'] {
  const FAMILY = 'stateproof_state_size_bytes';
  const buckets = new Map<number, number>();
  for (const families of parsed) {
    for (const b of families.get(FAMILY)?.samples ?? []) {
      if (b.name !== `${FAMILY}_bucket` || b.labels.le === undefined) continue;
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + b.value);
    }
  }
  if (buckets.size === 0) return null;
  return {
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count })),
    sum: total(FAMILY, {}, `${FAMILY}_sum`),
    count: total(FAMILY, {}, `${FAMILY}_count`),
  };
}

/** Bytes the service reported on reads, by turn-count bucket: how state grows with a session. */
export function bytesByTurn(history: readonly HistoryEntry[], buckets = 10): NonNullable<RunResult['capacity']>['bytesByTurn'] {
  // An empty session (a 200 with turnCount 0, as some libraries answer) has no turn to bucket by.
  const reads = history.filter((e) => e.op === 'read' && e.status === 200 && e.bytes !== undefined && e.turnCount !== undefined && e.turnCount > 0);
  // A loop, not Math.max(...): spread arguments overflow the stack at a few hundred thousand reads.
  let maxTurn = 0;
  for (const e of reads) if (e.turnCount! > maxTurn) maxTurn = e.turnCount!;
  if (reads.length === 0 || maxTurn === 0) return [];
  const width = Math.max(1, Math.ceil(maxTurn / buckets));
  const by = new Map<number, number[]>();
  for (const e of reads) {
    const b = Math.min(buckets - 1, Math.floor((e.turnCount! - 1) / width));
    (by.get(b) ?? by.set(b, []).get(b)!).push(e.bytes!);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, sizes]) => {
      sizes.sort((x, y) => x - y);
      return { fromTurn: b * width + 1, toTurn: Math.min(maxTurn, (b + 1) * width), reads: sizes.length, p50Bytes: percentile(sizes, 50), maxBytes: sizes[sizes.length - 1]! };
    });
}
