/**
 * What the run learned about state itself, beside correctness: the service's state metrics as
 * scraped after the run (size histogram, conflicts, cache, lifecycle, breaker timeline) and how
 * stored bytes grew with turn count. Pure functions of the scrapes and the history.
 */
import type { MetricsScrape } from '../check/types.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { RunResult } from '../report/result-schema.ts';

export type BreakerSample = { offsetMs: number; instance: string; state: 0 | 1 | 2 };

export function stateHealthFrom(scrapes: MetricsScrape[], breaker: BreakerSample[], unsafe: string[]): RunResult['stateHealth'] {
  const sum = (name: string, match?: RegExp) => {
    let total = 0;
    for (const s of scrapes) {
      for (const line of s.after.split('\n')) {
        if (!line.startsWith(name) || (match && !match.test(line))) continue;
        const v = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(v)) total += v;
      }
    }
    return total;
  };
  const lifecycle: Record<string, number> = {};
  for (const event of ['create', 'expire', 'migrate', 'reject', 'degrade']) lifecycle[event] = sum('stateproof_state_lifecycle_events_total{', new RegExp(`event="${event}"`));
  const cache = ['local', 'replica'].map((tier) => ({ tier, hit: sum('stateproof_state_cache_total{', new RegExp(`tier="${tier}".*result="hit"|result="hit".*tier="${tier}"`)), miss: sum('stateproof_state_cache_total{', new RegExp(`tier="${tier}".*result="miss"|result="miss".*tier="${tier}"`)) }));
  const present = scrapes.some((s) => s.after.includes('stateproof_'));
  return {
    sizeBytes: sizeHistogram(scrapes),
    conflicts: sum('stateproof_state_conflicts_total'),
    degradedResponses: sum('stateproof_degraded_responses_total'),
    cache,
    breaker,
    lifecycle,
    notes: present ? [] : [`the service exposed no state metrics${unsafe.includes('observability') ? ' (--unsafe observability)' : ''}`],
  };
}

/** stateproof_state_size_bytes as scraped after the run, buckets summed over instances. */
function sizeHistogram(scrapes: MetricsScrape[]): NonNullable<RunResult['stateHealth']>['sizeBytes'] {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const s of scrapes) {
    for (const m of s.after.matchAll(/^stateproof_state_size_bytes_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm)) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
    }
    sum += Number(/^stateproof_state_size_bytes_sum(?:\{[^}]*\})? (\S+)$/m.exec(s.after)?.[1] ?? 0);
    count += Number(/^stateproof_state_size_bytes_count(?:\{[^}]*\})? (\S+)$/m.exec(s.after)?.[1] ?? 0);
  }
  if (buckets.size === 0) return null;
  return { buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c })), sum, count };
}

/** Bytes the service reported on reads, by turn-count bucket: how state grows with a session. */
export function bytesByTurn(history: readonly HistoryEntry[], buckets = 10): NonNullable<RunResult['capacity']>['bytesByTurn'] {
  const reads = history.filter((e) => e.op === 'read' && e.status === 200 && e.bytes !== undefined && e.turnCount !== undefined);
  const maxTurn = Math.max(0, ...reads.map((e) => e.turnCount!));
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
      return { fromTurn: b * width + 1, toTurn: Math.min(maxTurn, (b + 1) * width), reads: sizes.length, p50Bytes: sizes[Math.ceil(sizes.length / 2) - 1]!, maxBytes: sizes[sizes.length - 1]! };
    });
}
