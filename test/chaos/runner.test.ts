/**
 * The plan runner: faults applied at their time, verified, undone at their end and when the run
 * is aborted, each undo bounded. Network and store faults act on a real redis-server behind the
 * embedded proxy; process faults on real `sleep` processes behind a recording FaultableProcess.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultableProcess } from '../../chaos/process.ts';
import { runPlan } from '../../chaos/runner.ts';
import { portOf, rawConnect, redisProxy, resp, sleep, startRig, timed, type Rig } from './helpers.ts';

let rig: Rig;
const children: ChildProcess[] = [];
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await rig?.stop();
});

/** A real process (`sleep 60`) that records every call made on it. */
class RecordingProcess implements FaultableProcess {
  calls: string[] = [];
  private child!: ChildProcess;
  hangOnResume = false;
  constructor(readonly name: string) {
    this.spawn();
  }
  private spawn() {
    this.child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(this.child);
  }
  get pid() {
    return this.child.pid ?? -1;
  }
  async kill9() {
    this.calls.push('kill9');
    this.child.kill('SIGKILL');
    await new Promise((r) => (this.child.exitCode !== null || this.child.signalCode !== null ? r(null) : this.child.once('exit', r)));
  }
  async pause() {
    this.calls.push('pause');
    this.child.kill('SIGSTOP');
    await sleep(20);
  }
  async resume() {
    this.calls.push('resume');
    this.child.kill('SIGCONT');
    if (this.hangOnResume) await new Promise(() => {});
  }
  async restart(opts?: { schemaVersion?: number }) {
    this.calls.push(`restart${opts?.schemaVersion ? `:v${opts.schemaVersion}` : ''}`);
    this.child.kill('SIGKILL');
    this.spawn();
  }
}

describe('runPlan', () => {
  it('applies a latency fault through the API, verifies it, and removes it at its end', async () => {
    const proxy = await redisProxy(rig, 'run-lat');
    const c = await rawConnect(portOf(proxy.listen));
    const run = runPlan({ seed: 1, faults: [{ id: 'slow', at: 0, duration: 700, target: 'run-lat', fault: { type: 'latency', attributes: { latency: 300 } } }] }, { toxiproxyUrl: rig.server.url, proxies: ['run-lat'] });
    await sleep(150);
    expect(run.active()).toEqual(['slow']);
    expect(await timed(c, resp('PING'), 7)).toBeGreaterThanOrEqual(290);
    const [entry] = await run.done;
    expect(entry).toMatchObject({ id: 'slow', target: 'run-lat', verified: true });
    expect(entry!.actualEndMs - entry!.actualStartMs).toBeGreaterThanOrEqual(650);
    expect(entry!.undoError).toBeUndefined();
    expect((await rig.client.getApi().get(`${proxy.getPath()}/toxics`)).data).toEqual([]);
    expect(await timed(c, resp('PING'), 7)).toBeLessThan(200);
    c.socket.destroy();
  });

  it('on abort, undoes what is active at once and skips what has not started', async () => {
    const proxy = await redisProxy(rig, 'run-down');
    const controller = new AbortController();
    const run = runPlan(
      {
        faults: [
          { id: 'down', at: 0, duration: '60s', target: 'run-down', fault: { type: 'down' } },
          { id: 'later', at: '30s', duration: '1s', target: 'run-lat2', fault: { type: 'latency', attributes: { latency: 1 } } },
        ],
      },
      { toxiproxyUrl: rig.server.url, proxies: ['run-down', 'run-lat2'] },
      { signal: controller.signal },
    );
    await sleep(300);
    expect((await rig.client.get('run-down')).enabled).toBe(false);
    const aborted = performance.now();
    controller.abort();
    const timeline = await run.done;
    expect(performance.now() - aborted).toBeLessThan(3_000);
    expect(timeline.map((e) => e.id)).toEqual(['down']);
    expect(timeline[0]).toMatchObject({ verified: true });
    expect((await rig.client.get('run-down')).enabled).toBe(true);
    const c = await rawConnect(portOf(proxy.listen));
    expect(await timed(c, resp('PING'), 7)).toBeLessThan(1_000);
    c.socket.destroy();
  });

  it('runs store faults on the real redis-server', async () => {
    const r = new Redis(rig.redis.url);
    try {
      const run = runPlan({ faults: [{ at: 0, duration: 1_500, target: 'redis-server', fault: { type: 'oom' } }] }, { redis: { url: rig.redis.url, server: rig.redis } });
      // Applying the fault is a CONFIG SET over a new connection: on a loaded machine it can take
      // longer than any fixed sleep, so ask until the store refuses (at most 40 asks, inside the 1.5 s fault).
      let refused: unknown;
      for (let i = 0; i < 40 && !refused; i++) {
        refused = await r.set('k', 'v').then(() => undefined, (e: unknown) => e);
        if (!refused) await sleep(25);
      }
      expect(String(refused)).toMatch(/OOM/);
      const [entry] = await run.done;
      expect(entry).toMatchObject({ verified: true, detail: expect.stringMatching(/OOM/) });
      expect(await r.set('k', 'v')).toBe('OK');
    } finally {
      r.disconnect();
    }
  });

  it('drives process faults and rolling restarts over FaultableProcess', async () => {
    const i1 = new RecordingProcess('i1');
    const i2 = new RecordingProcess('i2');
    const run = runPlan(
      {
        faults: [
          { at: 0, duration: 200, target: 'i1', fault: { type: 'kill9' } },
          { at: 0, duration: 200, target: 'i2', fault: { type: 'sigstop' } },
          { at: 400, duration: 0, target: 'i1,i2', fault: { type: 'rolling_restart', schemaVersion: 2, gapMs: 10 } },
        ],
      },
      { processes: { i1, i2 } },
    );
    const timeline = await run.done;
    expect(timeline.map((e) => [e.fault.type, e.verified])).toEqual([
      ['kill9', true],
      ['sigstop', true],
      ['rolling_restart', true],
    ]);
    expect(i1.calls).toEqual(['kill9', 'restart', 'restart:v2']);
    expect(i2.calls).toEqual(['pause', 'resume', 'restart:v2']);
  });

  it('gives a rolling restart the apply budget once per process', async () => {
    const slow = (name: string) => {
      const p = new RecordingProcess(name);
      const restart = p.restart.bind(p);
      p.restart = async (o) => {
        await sleep(300);
        await restart(o);
      };
      return p;
    };
    // Two restarts of 300 ms each: more than one 500 ms budget, well within two.
    const run = runPlan({ faults: [{ id: 'deploy', at: 0, duration: 0, target: 'a,b', fault: { type: 'rolling_restart', schemaVersion: 2 } }] }, { processes: { a: slow('a'), b: slow('b') } }, { applyTimeoutMs: 500 });
    const [deploy] = await run.done;
    expect(deploy!.error).toBeUndefined();
    expect(deploy!.verified).toBe(true);
  });

  it('bounds every undo with a timeout and records the failure', async () => {
    const stuck = new RecordingProcess('stuck');
    stuck.hangOnResume = true;
    const run = runPlan({ faults: [{ at: 0, duration: 100, target: 'stuck', fault: { type: 'sigstop' } }] }, { processes: { stuck } }, { undoTimeoutMs: 200 });
    const [entry] = await run.done;
    expect(entry!.undoError).toMatch(/within 200 ms/);
  });

  it('rejects a bad plan before anything starts', async () => {
    await redisProxy(rig, 'untouched');
    expect(() =>
      runPlan(
        { faults: [{ at: 0, duration: 1000, target: 'untouched', fault: { type: 'down' } }, { id: 'bad', at: 0, duration: -1, target: 'untouched', fault: { type: 'down' } }] },
        { toxiproxyUrl: rig.server.url, proxies: ['untouched'] },
      ),
    ).toThrow(/faults\[1\] \(id "bad"\)/);
    await sleep(50);
    expect((await rig.client.get('untouched')).enabled).toBe(true);
  });
});
