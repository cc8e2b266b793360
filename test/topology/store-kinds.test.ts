// Integration: the local topology on Valkey and on Postgres — the service answers through the
// router and the store's links, a store fault applies on it, and stopping leaves nothing running.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runPlan } from '../../chaos/runner.ts';
import { processStartTime } from '../../src/topology/cleanup.ts';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import { append, read } from './helpers.ts';
import { cli } from '../helpers/cli.ts';

describe('local topology on other stores', () => {
  const started: Topology[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.stop()));
  });

  it('valkey: valkey-server 8 behind the links; the Redis store faults apply unchanged; stop leaves nothing', async () => {
    const topo = await startTopology({ store: 'valkey', instances: 2, serviceArgs: ['--model-latency-ms', '0'] });
    started.push(topo);
    expect(topo.store).toMatchObject({ kind: 'valkey' });
    expect(topo.store!.version).toMatch(/^valkey 8\./);
    const pid = topo.processes['redis-server']!.pid;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('valkey-server');
    const token = topo.tenants['tenant-a']!;
    for (let k = 0; k < 4; k++) expect((await append(topo.routerUrl, token, 'vk')).status).toBe(200);
    expect((await read(topo.routerUrl, token, 'vk')).body).toMatchObject({ turnCount: 4 });

    const run = runPlan({ faults: [{ id: 'p', at: 0, duration: 300, target: 'redis-server', fault: { type: 'pause_writes' } }] }, topo.faultTargets());
    const [entry] = await run.done;
    expect(entry).toMatchObject({ verified: true });
    expect(entry!.undoError).toBeUndefined();

    await topo.stop();
    expect(processStartTime(pid)).toBeUndefined();
  });

  it('postgres: the service answers through the links; the topology says what it runs; stop leaves nothing', async () => {
    const logged: string[] = [];
    const topo = await startTopology({ store: 'postgres', instances: 2, serviceArgs: ['--model-latency-ms', '0'], log: (l) => logged.push(l) });
    started.push(topo);
    // The proxy's cost is measured in Postgres's own protocol (a Redis PING only got the connection closed).
    expect(logged.join('\n')).not.toMatch(/could not measure/);
    expect(topo.proxyCost).toMatchObject({ probe: 'SELECT 1', via: ['redis-i1', 'redis'], proxy: 'embedded' });
    expect(topo.proxyCost!.proxiedMs.p50).toBeGreaterThan(0);
    expect(topo.store).toMatchObject({ kind: 'postgres', settings: { fsync: 'off', full_page_writes: 'off' } });
    expect(topo.store!.version).toMatch(/^PostgreSQL \d+/);
    expect(topo.store!.notes.join(' ')).toMatch(/fsync=off, full_page_writes=off/);
    expect(topo.redis!.url).toMatch(/^postgres:\/\//);
    expect(topo.instances.map((i) => i.redisLink)).toEqual(['redis-i1', 'redis-i2']);
    const token = topo.tenants['tenant-a']!;
    for (let k = 0; k < 4; k++) expect((await append(topo.routerUrl, token, 'pg')).status).toBe(200);
    expect((await read(topo.routerUrl, token, 'pg')).body).toMatchObject({ turnCount: 4, revision: 4 });
    const ready = await fetch(`${topo.instances[0]!.url}/readyz`);
    expect(ready.status).toBe(200);

    const pid = topo.processes.postgres!.pid;
    await topo.stop();
    expect(processStartTime(pid)).toBeUndefined();
  });

  it('postgres has no replica: asking for one is a usage error', async () => {
    await expect(startTopology({ store: 'postgres', replica: true, log: () => {} })).rejects.toThrow(/replica .* Redis and Valkey only/);
  });

  it('an unknown store name is a usage error with a suggestion', async () => {
    await expect(startTopology({ store: 'valky' as never })).rejects.toThrow("unknown store 'valky'; stores: redis, valkey, postgres, redis-cluster, valkey-cluster. Did you mean 'valkey'?");
  });

  it('a missing store binary: exit 3, one line naming what to install or set', async () => {
    const pgMissing = await cli(['up', '--store', 'postgres'], { env: { STATEPROOF_POSTGRES_BIN: '/nonexistent' }, timeoutMs: 60_000 });
    expect(pgMissing.code).toBe(3);
    expect(pgMissing.stderr).toContain('stateproof up: STATEPROOF_POSTGRES_BIN=/nonexistent does not hold executable initdb and postgres. Install PostgreSQL (Debian/Ubuntu: `sudo apt-get install -y postgresql`)');
    expect(pgMissing.stderr).not.toMatch(/\n\s+at /);
    const vkMissing = await cli(['up', '--store', 'valkey'], { env: { STATEPROOF_VALKEY_SERVER: '/nonexistent' }, timeoutMs: 60_000 });
    expect(vkMissing.code).toBe(3);
    expect(vkMissing.stderr).toContain('STATEPROOF_VALKEY_SERVER=/nonexistent is not an executable valkey-server.');
    expect(vkMissing.stderr).not.toMatch(/\n\s+at /);
  });
});
