/**
 * The state-health panel's data, derived from scrapes and the history: counters summed over
 * instances, the size histogram's buckets merged, a note when the service exposed no state
 * metrics, and bytes per session grouped by turn count.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/record/history.ts';
import { bytesByTurn, stateHealthFrom } from '../../src/report/derive/state-health.ts';

const scrape = (instance: string, creates: number, small: number) => ({
  instance,
  after: [
    `stateproof_state_lifecycle_events_total{event="create"} ${creates}`,
    `stateproof_state_conflicts_total 2`,
    `stateproof_state_cache_total{tier="local",result="hit"} 5`,
    `# TYPE stateproof_state_size_bytes histogram`,
    `stateproof_state_size_bytes_bucket{le="1024"} ${small}`,
    `stateproof_state_size_bytes_bucket{le="+Inf"} ${small + 1}`,
    `stateproof_state_size_bytes_sum 3000`,
    `stateproof_state_size_bytes_count ${small + 1}`,
  ].join('\n'),
});

describe('stateHealthFrom', () => {
  it('sums counters and merges size buckets over instances', () => {
    const h = stateHealthFrom([scrape('i1', 3, 4), scrape('i2', 4, 6)], [{ offsetMs: 1000, instance: 'i1', state: 1 }], [])!;
    expect(h.lifecycle.create).toBe(7);
    expect(h.conflicts).toBe(4);
    expect(h.cache.find((c) => c.tier === 'local')).toEqual({ tier: 'local', hit: 10, miss: 0 });
    expect(h.sizeBytes).toEqual({ buckets: [{ le: 1024, count: 10 }, { le: Infinity, count: 12 }], sum: 6000, count: 12 });
    expect(h.breaker).toEqual([{ offsetMs: 1000, instance: 'i1', state: 1 }]);
    expect(h.notes).toEqual([]);
  });
  it('says when the service exposed no state metrics, and why if observability was switched off', () => {
    const h = stateHealthFrom([{ instance: 'i1', after: 'process_cpu_seconds_total 1' }], [], ['observability'])!;
    expect(h.sizeBytes).toBeNull();
    expect(h.notes).toEqual(['the service exposed no state metrics (--unsafe observability)']);
  });
});

describe('bytesByTurn', () => {
  const read = (id: number, turnCount: number, bytes: number): HistoryEntry => ({ id, vu: 1, op: 'read', session: 's', intendedStartMs: 0, startMs: 0, endMs: 1, outcome: 'ok', status: 200, turnCount, bytes });
  it('groups read sizes by turn count', () => {
    const history = [read(1, 1, 100), read(2, 2, 300), read(3, 3, 500), read(4, 4, 700)];
    expect(bytesByTurn(history, 2)).toEqual([
      { fromTurn: 1, toTurn: 2, reads: 2, p50Bytes: 100, maxBytes: 300 },
      { fromTurn: 3, toTurn: 4, reads: 2, p50Bytes: 500, maxBytes: 700 },
    ]);
  });
  it('leaves out an empty session read as 200 with turnCount 0 (a library\'s answer; it crashed the result schema with fromTurn -1)', () => {
    expect(bytesByTurn([read(1, 0, 40), read(2, 1, 100), read(3, 2, 300)], 2)).toEqual([
      { fromTurn: 1, toTurn: 1, reads: 1, p50Bytes: 100, maxBytes: 100 },
      { fromTurn: 2, toTurn: 2, reads: 1, p50Bytes: 300, maxBytes: 300 },
    ]);
  });
  it('takes half a million reads (no spread of them into Math.max)', () => {
    const many = Array.from({ length: 500_000 }, (_, i) => read(i + 1, 1 + (i % 50), 100 + i));
    expect(bytesByTurn(many, 10)).toHaveLength(10);
  });
  it('is empty without sized reads', () => {
    expect(bytesByTurn([{ ...read(1, 1, 1), status: 404 }])).toEqual([]);
  });
});
