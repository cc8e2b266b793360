import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisStack, type RedisStack } from '../../src/topology/redis-stack.ts';
import { processStartTime } from '../../src/topology/cleanup.ts';

describe('startRedisStack', () => {
  const stacks: RedisStack[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.stop()));
  });

  it('starts a primary and a replica that follows it, and stops both', async () => {
    const stack = await startRedisStack({ replica: true });
    stacks.push(stack);
    const primary = new Redis(stack.primary.url, { maxRetriesPerRequest: 1 });
    const replica = new Redis(stack.replica!.url, { maxRetriesPerRequest: 1 });
    try {
      await primary.set('k', 'v1');
      const deadline = Date.now() + 5_000;
      let seen: string | null = null;
      while (Date.now() < deadline && seen !== 'v1') {
        seen = await replica.get('k');
        if (seen !== 'v1') await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toBe('v1');
      await expect(replica.set('k', 'x')).rejects.toThrow(/READONLY/);
    } finally {
      primary.disconnect();
      replica.disconnect();
    }
    // A restarted replica follows the primary again.
    await stack.processes['redis-replica']!.restart();
    const again = new Redis(stack.replica!.url, { maxRetriesPerRequest: 1 });
    expect((await again.info('replication')).includes('role:slave')).toBe(true);
    again.disconnect();
    const pids = [stack.primary.pid, stack.replica!.pid];
    await stack.stop();
    for (const pid of pids) expect(processStartTime(pid)).toBeUndefined();
  });

  it('tells the cleanup tracker about the new pid when a fault restarts Redis', async () => {
    const tracked = new Map<number, string>();
    const tracker = { addProcess: (name: string, pid: number) => void tracked.set(pid, name), removeProcess: (pid: number) => void tracked.delete(pid) };
    const stack = await startRedisStack({ tracker });
    stacks.push(stack);
    const before = stack.primary.pid;
    expect([...tracked.entries()]).toEqual([[before, 'redis-server']]);
    await stack.primary.restart({ hard: true });
    expect(stack.primary.pid).not.toBe(before);
    expect([...tracked.entries()]).toEqual([[stack.primary.pid, 'redis-server']]);
    await stack.stop();
    expect(tracked.size).toBe(0);
  });
});
