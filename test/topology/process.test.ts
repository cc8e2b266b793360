import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess, type StartedProcess } from '../../src/topology/process.ts';
import { Wait, ReadinessError } from '../../src/topology/wait.ts';
import { processStartTime } from '../../src/topology/cleanup.ts';

const fixture = fileURLToPath(new URL('./fixtures/echo-server.mjs', import.meta.url));
const READY = /listening on (http:\/\/\S+)/;

function alive(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

async function getJson(url: string, timeoutMs = 2_000): Promise<{ pid: number; version: number } | 'timeout' | 'refused'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.json()) as { pid: number; version: number };
  } catch (e) {
    return (e as Error).name === 'TimeoutError' ? 'timeout' : 'refused';
  }
}

describe('startProcess', () => {
  const started: StartedProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });

  const start = async (args: string[] | ((o: { schemaVersion?: number }) => string[]), wait = Wait.all(Wait.forLogLine(READY, { stream: 'stdout' }), Wait.forHttp((r) => r.match![1]!))) => {
    const p = await startProcess({ name: 'echo', command: process.execPath, args: typeof args === 'function' ? (o) => [fixture, ...args(o)] : [fixture, ...args], wait });
    started.push(p);
    return p;
  };

  it('is ready by log line then HTTP probe, and stops by pid', async () => {
    const p = await start(['--delay-ready-ms', '200']);
    const url = p.ready.match![1]!;
    expect(await getJson(url)).toMatchObject({ pid: p.pid });
    const pid = p.pid;
    const stopped = await p.stop();
    expect(stopped.exitCode).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it('says what it waited for and how long when readiness times out', async () => {
    const err = await start(['--delay-ready-ms', '5000'], Wait.forLogLine(READY, { timeoutMs: 300 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadinessError);
    expect(String((err as Error).message)).toMatch(/echo was not ready: waited 300 ms for a log line matching .*listening on/);
  });

  it('says how the process ended when it exits before it is ready', async () => {
    const err = await start(['--exit-early']).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/echo exited with code 7 while waiting for .*\n.*failing on purpose/s);
  });

  it('pauses (SIGSTOP), resumes (SIGCONT), kills -9 and restarts with a new version on the same port', async () => {
    let port = 0;
    const p = await start((o) => ['--port', String(port), '--version', String(o.schemaVersion ?? 1)]);
    const url = p.ready.match![1]!;
    port = Number(new URL(url).port);
    expect(await getJson(url)).toMatchObject({ version: 1 });

    await p.pause();
    expect(await getJson(url, 500)).toBe('timeout');
    await p.resume();
    expect(await getJson(url)).toMatchObject({ version: 1 });

    const oldPid = p.pid;
    await p.restart({ schemaVersion: 2 });
    expect(p.pid).not.toBe(oldPid);
    expect(alive(oldPid)).toBe(false);
    expect(p.ready.match![1]).toBe(url);
    expect(await getJson(url)).toMatchObject({ version: 2, pid: p.pid });

    const pid = p.pid;
    await p.kill9();
    expect(alive(pid)).toBe(false);
    expect(p.running).toBe(false);
    expect(await getJson(url)).toBe('refused');
    await expect(p.pause()).rejects.toThrow(/not running/);
    await p.restart();
    expect(await getJson(url)).toMatchObject({ version: 2 });
  });

  it('runs overlapping restarts one after the other: each starts its own process, and one process is left, on the last version', async () => {
    let port = 0;
    const pids: number[] = [];
    const p = await start((o) => ['--port', String(port), '--version', String(o.schemaVersion ?? 1), '--delay-ready-ms', '300']);
    const url = p.ready.match![1]!;
    port = Number(new URL(url).port);
    pids.push(p.pid);
    // A rolling deploy that overran into the next one: the second restart arrives mid-start of the first.
    const first = p.restart({ schemaVersion: 2 }).then(() => pids.push(p.pid));
    await new Promise((r) => setTimeout(r, 100));
    const second = p.restart({ schemaVersion: 3 }).then(() => pids.push(p.pid));
    await Promise.all([first, second]);
    expect(new Set(pids).size).toBe(3);
    expect(pids.slice(0, 2).filter(alive)).toEqual([]);
    expect(await getJson(url)).toEqual(expect.objectContaining({ version: 3, pid: pids[2] }));
  });

  it('starts nothing for a restart still queued when it is stopped', async () => {
    const p = await start((o) => ['--version', String(o.schemaVersion ?? 1), '--delay-ready-ms', '300']);
    const restarting = p.restart({ schemaVersion: 2 });
    const queued = p.restart({ schemaVersion: 3 });
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    await expect(restarting).rejects.toThrow();
    await expect(queued).rejects.toThrow(/was stopped; not starting it again/);
    expect(p.running).toBe(false);
  });

  it('stops a paused process', async () => {
    const p = await start([]);
    await p.pause();
    const pid = p.pid;
    await p.stop();
    expect(alive(pid)).toBe(false);
  });
});
