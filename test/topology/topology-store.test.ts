// Integration: round-robin spread, and what a Redis restart does to acknowledged data with and
// without AOF — measured through the service, as the harness reports it.
import { afterEach, describe, expect, it } from 'vitest';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import { append, eventually, read } from './helpers.ts';

describe('local topology: round-robin and Redis restarts', () => {
  const started: Topology[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.stop()));
  });

  it('round-robin spreads requests evenly over the instances', async () => {
    const topo = await startTopology({ instances: 3, router: 'round-robin', serviceArgs: ['--model-latency-ms', '0'] });
    started.push(topo);
    const token = topo.tenants['tenant-a']!;
    const counts: Record<string, number> = {};
    for (let k = 0; k < 30; k++) {
      const r = await append(topo.routerUrl, token, `rr-${k % 4}`);
      expect(r.status).toBeLessThan(300);
      counts[r.instance!] = (counts[r.instance!] ?? 0) + 1;
    }
    expect(counts).toEqual({ i1: 10, i2: 10, i3: 10 });
  });

  /** Appends `n` turns, restarts redis-server the hard way (kill -9), and counts what survived. */
  async function restartLoses(aof: boolean, n: number): Promise<{ acknowledged: number; survived: number }> {
    const topo = await startTopology({ instances: 1, aof, serviceArgs: ['--model-latency-ms', '0'] });
    started.push(topo);
    const token = topo.tenants['tenant-a']!;
    let acknowledged = 0;
    for (let k = 0; k < n; k++) if ((await append(topo.routerUrl, token, `aof-${k}`)).status < 300) acknowledged++;
    await topo.redis!.server!.restart({ hard: true });
    // Strong reads go to the primary; wait until the service is back in normal mode.
    let survived = 0;
    const ok = await eventually(async () => {
      survived = 0;
      for (let k = 0; k < n; k++) {
        const r = await read(topo.routerUrl, token, `aof-${k}`);
        if (r.mode !== 'normal') return false;
        if (r.status === 200) survived++;
      }
      return true;
    }, 20_000, 200);
    expect(ok).toBe(true);
    return { acknowledged, survived };
  }

  it('a Redis restart keeps acknowledged sessions with AOF and loses them without', async () => {
    const withAof = await restartLoses(true, 10);
    const without = await restartLoses(false, 10);
    console.log(`redis kill -9 + restart: with AOF ${withAof.survived}/${withAof.acknowledged} acknowledged sessions survived; without AOF ${without.survived}/${without.acknowledged}`);
    expect(withAof.acknowledged).toBe(10);
    expect(withAof.survived).toBe(10);
    expect(without.acknowledged).toBe(10);
    expect(without.survived).toBe(0);
  });
});
