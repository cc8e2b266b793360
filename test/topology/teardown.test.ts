import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { processStartTime, sweepStaleRuns } from '../../src/topology/cleanup.ts';
import { SERVICE_BINARY } from '../../src/topology/service-instance.ts';

const harness = fileURLToPath(new URL('./fixtures/harness.ts', import.meta.url));
const echo = fileURLToPath(new URL('./fixtures/echo-server.mjs', import.meta.url));
// The real service once it exists in this checkout; the scripted one keeps the teardown test meaningful before.
const serviceCommand = existsSync(path.join(path.dirname(SERVICE_BINARY), '../reference-service/main.ts')) ? undefined : [process.execPath, echo];
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'stateproof-state-test-'));

interface HarnessInfo {
  harnessPid: number;
  pids: Record<string, number>;
  /** Postgres: the postmaster's children (backends, checkpointer, …) at start. */
  storePids: number[];
  ports: number[];
  dir: string;
  storeDir: string | null;
  storeShmId: string | null;
}

function startHarness(opts: object): Promise<{ child: ChildProcess; info: HarnessInfo; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', harness, JSON.stringify({ ...opts, serviceCommand })], {
    env: { ...process.env, STATEPROOF_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`harness did not report within 30 s; stderr:\n${err}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, info: JSON.parse(out.slice(0, nl)) as HarnessInfo, stderr: () => err });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`harness exited with ${code} before reporting; stderr:\n${err}`));
    });
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const t = setTimeout(() => reject(new Error(`harness did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(1_000, () => {
      s.destroy();
      resolve(true); // something accepted the SYN (a paused process would)
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const alive = (pid: number) => processStartTime(pid) !== undefined;

/** The System V shared-memory segment ids that exist now. */
function sysvSegments(): string[] {
  return readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]!);
}

async function allGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('topology teardown', () => {
  const children: ChildProcess[] = [];
  const leftovers: number[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('SIGINT to a harness mid-run leaves no process it started and no port it bound', async () => {
    const { child, info } = await startHarness({ instances: 2, replica: true });
    children.push(child);
    const pids = Object.values(info.pids);
    leftovers.push(...pids);
    expect(pids.length).toBe(4); // i1, i2, redis-server, redis-replica
    for (const pid of pids) expect(alive(pid)).toBe(true);
    expect(info.ports.length).toBeGreaterThanOrEqual(10);
    for (const p of info.ports) expect(await portAnswers(p)).toBe(true);
    // A paused instance must not block teardown.
    process.kill(info.pids.i1!, 'SIGSTOP');

    child.kill('SIGINT');
    const end = await exited(child, 30_000);
    expect(end.code).toBe(130);
    for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
    for (const p of info.ports) expect(await portAnswers(p), `port ${p} still bound`).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
    expect(readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('a later run cleans what a kill -9\'d harness left, and says so', async () => {
    const { child, info } = await startHarness({ instances: 1 });
    children.push(child);
    const pids = Object.values(info.pids);
    leftovers.push(...pids);
    child.kill('SIGKILL');
    await exited(child, 10_000);
    // Children outlive a kill -9'd parent: that is the problem the run file solves.
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const report = sweepStaleRuns(stateDir);
    expect(report.runs).toBe(1);
    expect(report.processesKilled.map((p) => p.pid).sort()).toEqual([...pids].sort());
    expect(report.dirsRemoved).toContain(info.dir);
    const deadline = Date.now() + 5_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(sweepStaleRuns(stateDir).runs).toBe(0);
  });

  describe('postgres store', () => {
    it('SIGINT: the postmaster, its backends, its temp dir and its shared memory are gone', async () => {
      const { child, info } = await startHarness({ instances: 2, store: 'postgres' });
      children.push(child);
      const pids = [...Object.values(info.pids), ...info.storePids];
      leftovers.push(...pids);
      expect(Object.keys(info.pids).sort()).toEqual(['i1', 'i2', 'postgres']);
      expect(info.storePids.length).toBeGreaterThan(2); // checkpointer, walwriter, … and the instances' backends
      expect(existsSync(info.storeDir!)).toBe(true);
      expect(sysvSegments()).toContain(info.storeShmId);

      child.kill('SIGINT');
      expect((await exited(child, 30_000)).code).toBe(130);
      await allGone(pids, 5_000);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
      for (const p of info.ports) expect(await portAnswers(p), `port ${p} still bound`).toBe(false);
      expect(existsSync(info.storeDir!)).toBe(false);
      expect(sysvSegments()).not.toContain(info.storeShmId);
    });

    it('kill -9 of a harness whose Postgres is stalled: the sweep kills the stopped backends too and removes dir and segment', async () => {
      const { child, info } = await startHarness({ instances: 1, store: 'postgres', stallStore: true });
      children.push(child);
      const pids = [...Object.values(info.pids), ...info.storePids];
      leftovers.push(...pids);
      child.kill('SIGKILL');
      await exited(child, 10_000);
      for (const pid of pids) expect(alive(pid)).toBe(true);
      expect(sysvSegments()).toContain(info.storeShmId);
      const report = sweepStaleRuns(stateDir);
      expect(report.runs).toBe(1);
      expect(report.processesKilled.map((p) => p.name)).toEqual(expect.arrayContaining(['postgres', 'postgres-backend', 'i1']));
      expect(report.dirsRemoved).toEqual(expect.arrayContaining([info.dir, info.storeDir]));
      await allGone(pids, 5_000);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still alive`).toBe(false);
      expect(existsSync(info.storeDir!)).toBe(false);
      expect(sysvSegments()).not.toContain(info.storeShmId);
    });
  });
});
