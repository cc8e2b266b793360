/** Capacity on a cluster: memory per shard is the total × the hottest shard's share of sessions. */
import { describe, expect, it } from 'vitest';
import { hottestShard, measureCapacity, projectCapacity } from '../../src/report/capacity.ts';

const base = { bytesPerSession: Array.from({ length: 100 }, () => 1_000), usedMemoryBaselineBytes: 1_000_000, usedMemoryEndBytes: 1_300_000, settings: { windowTurns: 10, ttlSeconds: 60 } };

describe('capacity per shard', () => {
  it('names the hottest shard and projects each shard for its share, not an even third', () => {
    const shards = [
      { node: '127.0.0.1:7001', slots: 5461, sessions: 30, usedMemoryBytes: 500_000 },
      { node: '127.0.0.1:7002', slots: 5462, sessions: 45, usedMemoryBytes: 600_000 },
      { node: '127.0.0.1:7003', slots: 5461, sessions: 25, usedMemoryBytes: 400_000 },
    ];
    const c = projectCapacity(measureCapacity({ ...base, shards }), { sessions: [1_000_000] });
    expect(hottestShard(c)).toEqual({ node: '127.0.0.1:7002', slots: 5462, share: 0.45, shards: 3 });
    const [p] = c.projections;
    // used_memory grew 3 000 bytes per session; the hottest shard holds 45 % of a million of them.
    expect(p!.redisBytes).toBe(3_000 * 1_000_000);
    expect(p!.hottestShardBytes).toBeCloseTo(3_000 * 1_000_000 * 0.45);
    expect(c.assumptions.join(' ')).toMatch(/hottest shard \(primary 127\.0\.0\.1:7002, 5462 slots\) held 45 % of them/);
  });

  it('says nothing about shards on one Redis', () => {
    const c = projectCapacity(measureCapacity(base), { sessions: [1_000] });
    expect(hottestShard(c)).toBeNull();
    expect(c.projections[0]!.hottestShardBytes).toBeUndefined();
    expect(c.assumptions.join(' ')).not.toMatch(/shard/);
  });
});
