/**
 * Integration: --store redis-cluster and valkey-cluster on the local provider. Six real nodes on
 * loopback (3 primaries, 3 replicas), each behind its own link; the service reaches every node
 * through those links (MOVED and ASK name the nodes' own addresses, the service maps them); sessions
 * spread over the three shards by their per-session hash tag; stopping, or a kill -9 of the harness
 * followed by the next run's sweep, leaves no node running; bad input is one line and exit 3.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keySlot as calculateSlot } from '../../src/topology/cluster-slot.ts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { processStartTime, sweepStaleRuns } from '../../src/topology/cleanup.ts';
import { startTopology, type Topology } from '../../src/topology/index.ts';
import { startRedisCluster } from '../../src/topology/redis-cluster.ts';
import { snapshotStore } from '../../src/run/store-snapshot.ts';
import { legacyKeys, sessionKey } from '../../reference-service/store/keys.ts';
import { cli } from '../helpers/cli.ts';
import { append, read } from './helpers.ts';

const alive = (pid: number) => processStartTime(pid) !== undefined;
const SESSIONS = 90;

describe('local topology on a cluster', () => {
  const started: Topology[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.stop()));
  });

  it('redis-cluster: 6 nodes behind their own links, sessions spread over the 3 shards, stop leaves nothing', async () => {
    const topo = await startTopology({ store: 'redis-cluster', instances: 2, serviceArgs: ['--model-latency-ms', '0'] });
    started.push(topo);
    expect(topo.store).toMatchObject({ kind: 'redis-cluster', settings: { nodes: '3 primaries + 3 replicas' } });
    expect([...topo.toxiproxy!.proxies].sort()).toEqual(['cluster-n1', 'cluster-n2', 'cluster-n3', 'cluster-n4', 'cluster-n5', 'cluster-n6']);
    const pids = Object.entries(topo.processes).filter(([n]) => n.startsWith('cluster-')).map(([, p]) => p.pid);
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('redis-server');

    const token = topo.tenants['tenant-a']!;
    for (let s = 0; s < SESSIONS; s++) expect((await append(topo.routerUrl, token, `spread-${s}`)).status).toBe(200);
    expect((await append(topo.routerUrl, token, 'spread-0')).body).toMatchObject({ revision: 2 });
    expect((await read(topo.routerUrl, token, 'spread-0')).body).toMatchObject({ turnCount: 2 });

    // The spread: one hash tag per session puts about a third on each shard; layout 1's {tenant}
    // would have put every one of them in one slot.
    const snap = await snapshotStore(topo.redis!.url);
    expect(snap.sessions.filter((s) => s.session.startsWith('spread-'))).toHaveLength(SESSIONS);
    const shards = snap.extras.shards!;
    expect(shards.map((s) => s.slots).sort()).toEqual([5461, 5461, 5462]);
    const shares = shards.map((s) => s.sessions / SESSIONS);
    for (const share of shares) expect(share).toBeGreaterThan(0.15);
    expect(Math.max(...shares)).toBeLessThan(0.55);
    const legacySlots = new Set(Array.from({ length: SESSIONS }, (_, s) => calculateSlot(legacyKeys('tenant-a', `spread-${s}`).key)));
    const slots = new Set(Array.from({ length: SESSIONS }, (_, s) => calculateSlot(sessionKey('tenant-a', `spread-${s}`))));
    expect(legacySlots.size).toBe(1);
    expect(slots.size).toBeGreaterThan(80);
    process.stderr.write(`cluster spread of ${SESSIONS} sessions over 3 shards: ${shards.map((s) => s.sessions).join(' / ')}\n`);

    await topo.stop();
    for (const pid of pids) expect(alive(pid), `node pid ${pid}`).toBe(false);
  });

  it('valkey-cluster: valkey-server 8 nodes, created by valkey-cli, answering through the links', async () => {
    const topo = await startTopology({ store: 'valkey-cluster', instances: 1, serviceArgs: ['--model-latency-ms', '0'] });
    started.push(topo);
    expect(topo.store!.version).toMatch(/^valkey 8\./);
    const pid = topo.processes['cluster-n1']!.pid;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('valkey-server');
    const token = topo.tenants['tenant-a']!;
    for (let s = 0; s < 12; s++) expect((await append(topo.routerUrl, token, `vk-${s}`)).status).toBe(200);
    expect((await snapshotStore(topo.redis!.url)).extras.shards!.every((s) => s.sessions > 0)).toBe(true);
  });
});

describe('cluster bad input and cleanup', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('redis-cli missing: one line, exit 3, no node started', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-cluster-'));
    const r = await cli(['up', '--store', 'redis-cluster'], { env: { STATEPROOF_REDIS_CLI: path.join(dir, 'no-such-redis-cli') } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr.trim().split('\n').filter((l) => /redis-cli/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(/STATEPROOF_REDIS_CLI=.*is not an executable redis-cli/);
  });

  it('a cluster that never reaches ok: the error names what each node lacked, and every node is stopped', async () => {
    const pids: number[] = [];
    const tracker = { addProcess: (_: string, pid: number) => void pids.push(pid), removeProcess: () => {} };
    const err = await startRedisCluster({ readyTimeoutMs: 0, tracker }).then(
      () => undefined,
      (e: Error) => e,
    );
    // Zero ms may still catch every node ok on a quick machine; the bound is what is tested.
    if (err) {
      expect(err.message).toMatch(/did not reach cluster_state:ok on every node within 0 ms: n\d/);
      expect((err as { exitCode?: number }).exitCode).toBe(3);
    }
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(alive(pid), `node pid ${pid}`).toBe(false);
  });

  it('kill -9 of the harness: the next run sweeps all six nodes', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-cluster-state-'));
    const harness = fileURLToPath(new URL('./fixtures/harness.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', harness, JSON.stringify({ store: 'redis-cluster', instances: 1 })], { env: { ...process.env, STATEPROOF_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const info = await new Promise<{ pids: Record<string, number> }>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('harness did not report within 40 s')), 40_000);
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(t);
          resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
        }
      });
    });
    const pids = Object.values(info.pids);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pids.filter(alive)).toHaveLength(pids.length);
    const report = sweepStaleRuns(stateDir);
    expect(report.processesKilled.map((p) => p.name).sort()).toEqual(['cluster-n1', 'cluster-n2', 'cluster-n3', 'cluster-n4', 'cluster-n5', 'cluster-n6', 'i1']);
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(alive)).toEqual([]);
    await rm(stateDir, { recursive: true, force: true });
  });
});

describe('keySlot', () => {
  it('is the cluster specification\'s CRC16 slot, hash tags included', () => {
    // The specification's examples: CRC16("123456789") = 0x31C3 = 12739; a tag hashes alone.
    expect(calculateSlot('123456789')).toBe(12739);
    expect(calculateSlot('{user1000}.following')).toBe(calculateSlot('user1000'));
    expect(calculateSlot('foo')).toBe(12182);
  });
});
