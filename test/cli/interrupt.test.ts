/**
 * Ctrl-C and SIGTERM through the real binary, mid-load and mid-check: the verdict is
 * "interrupted" (exit 105, k6's code), on the terminal and in every report; the invariants judged
 * over the partial history are marked partial; no ioredis stack reaches stderr; nothing the run
 * started is left running; the report directory holds the partial report. A second signal
 * force-quits, and still leaves no process behind.
 *
 * Ctrl-C in a terminal signals the whole foreground process group, so the SIGINT cases signal the
 * harness's group; SIGTERM (kill, docker stop, CI cancelling a job) goes to the harness alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sweepStaleRuns } from '../../src/topology/cleanup.ts';
import { BIN } from '../helpers/cli.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stateproof-interrupt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Harness {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr has a line matching `re` (rejects after `timeoutMs` or on exit). */
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
  exit: Promise<number | null>;
  stateDir: string;
  outDir: string;
}

const started: ChildProcess[] = [];
const recorded: number[] = [];
const stateDirs: string[] = [];
afterEach(async () => {
  const exits = started.splice(0).map((c) => {
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    c.kill('SIGKILL');
    return new Promise<void>((r) => c.once('exit', () => r()));
  });
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5_000))]);
  for (const pid of recorded.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  // A harness killed here (a failed or timed-out case) leaves its stores running in their own
  // process groups; its run file names them, and root is deleted after the file, so sweep now.
  for (const dir of stateDirs.splice(0)) sweepStaleRuns(dir);
});

function start(name: string, args: string[], env: Record<string, string> = {}): Harness {
  const stateDir = path.join(root, name, 'state');
  stateDirs.push(stateDir);
  const outDir = path.join(root, name, 'reports');
  // Its own process group, as a shell gives a foreground job, so the group can be signalled as Ctrl-C does.
  const child = spawn(process.execPath, [BIN, ...args, '--out', outDir], {
    env: { ...process.env, STATEPROOF_STATE_DIR: stateDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    stateDir,
    outDir,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => (clearInterval(poll), reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr:\n${err}`))), timeoutMs);
        const poll = setInterval(() => {
          if (re.test(err)) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null) {
            clearInterval(poll);
            clearTimeout(timer);
            reject(new Error(`exited ${child.exitCode} before a line matching ${re}; stderr:\n${err}`));
          }
        }, 50);
      }),
  };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** The pids still running after a bounded wait: SIGKILL lands when the process is next scheduled. */
async function stillAlive(pids: number[], ms = 5_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}

/** The pids the run recorded in its run file (src/topology/cleanup.ts): what must not outlive it. */
function recordedPids(stateDir: string): number[] {
  const pids = readdirSync(stateDir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => (JSON.parse(readFileSync(path.join(stateDir, f), 'utf8')) as { processes: Array<{ pid: number }> }).processes.map((p) => p.pid));
  recorded.push(...pids);
  return pids;
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What every interrupted run must show, whatever the signal and the stage. */
async function expectInterrupted(h: Harness, pids: number[], signal: 'SIGINT' | 'SIGTERM', stage: 'load' | 'check') {
  const code = await bounded(h.exit, 60_000, 'the interrupted run');
  const all = h.stdout() + h.stderr();
  expect(code, all).toBe(105);
  const verdictText = all;
  expect(verdictText).toMatch(new RegExp(`^INTERRUPTED {2}store-outage \\(ci, reference\\): interrupted by ${signal} ${stage === 'load' ? 'during the load' : 'after the load'}`, 'm'));
  expect(verdictText).toMatch(/^ {2}ok {6}no-lost-writes .*\[partial\]$/m);
  expect(h.stderr()).not.toMatch(/ioredis|Unhandled error event|MaxRetriesPerRequest|internal error/);
  expect(h.stderr()).not.toMatch(/^\s+at /m);
  for (const pid of await stillAlive(pids)) expect.fail(`pid ${pid} still running 5 s after the harness exited`);
  expect(readdirSync(h.stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);

  const runs = readdirSync(h.outDir);
  expect(runs).toHaveLength(1);
  const dir = path.join(h.outDir, runs[0]!);
  const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
  expect(result.verdict).toMatchObject({ pass: false, exitCode: 105, interrupted: { signal, stage } });
  expect(result.invariants.length).toBeGreaterThan(0);
  for (const inv of result.invariants) expect(inv.partial, inv.name).toBe(true);
  expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/^## ⏹️ INTERRUPTED — store-outage/m);
  expect(readFileSync(path.join(dir, 'index.html'), 'utf8')).toContain('<div class="badge-big">INTERRUPTED</div>');
  const junit = readFileSync(path.join(dir, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testcase [^>]*name="run"[^>]*>\s*<error message="run interrupted by [^"]*" type="interrupted">/);
  expect(junit).toContain('<property name="verdict" value="interrupted"/>');
  return { result, dir };
}

const LOAD_RUNNING = /^store-outage {2}\d+s\/\d+s /m;

describe('an interrupted run (real binary)', () => {
  it('Ctrl-C (SIGINT to the process group) mid-load: interrupted, exit 105, partial report, nothing left running', async () => {
    const h = start('sigint-load', ['run', 'store-outage']);
    await h.waitFor(LOAD_RUNNING, 60_000);
    const pids = recordedPids(h.stateDir);
    expect(pids.length).toBeGreaterThanOrEqual(2); // redis-server and the instance
    process.kill(-h.child.pid!, 'SIGINT');
    const { result } = await expectInterrupted(h, pids, 'SIGINT', 'load');
    // The instances outlived the terminal's Ctrl-C, so their /metrics were read whole.
    expect(result.invariants.find((i: { name: string }) => i.name === 'metrics-agree')).toMatchObject({ holds: true, partial: true });
    expect(result.verdict.interrupted.afterMs).toBeLessThan(result.verdict.interrupted.plannedMs);
  });

  it('SIGTERM to the harness mid-load, with --json: the same, and the JSON verdict says interrupted', async () => {
    const h = start('sigterm-load', ['run', 'store-outage', '--json']);
    await h.waitFor(LOAD_RUNNING, 60_000);
    const pids = recordedPids(h.stateDir);
    h.child.kill('SIGTERM');
    await expectInterrupted(h, pids, 'SIGTERM', 'load');
    const json = JSON.parse(h.stdout());
    expect(json).toMatchObject({ verdict: 'interrupted', exitCode: 105, interrupted: { signal: 'SIGTERM', stage: 'load' } });
    expect(json.invariants.every((i: { partial?: boolean }) => i.partial === true)).toBe(true);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} mid-check: interrupted after the load, exit 105, partial report, nothing left running`, async () => {
      // The hook holds the run at the start of its check stage until a signal arrives.
      const h = start(`${signal}-check`, ['run', 'store-outage', '--duration', '3s', '-q'], { STATEPROOF_SELFTEST_HOLD_CHECK: '1' });
      await h.waitFor(/holding the check stage until a signal/, 60_000);
      const pids = recordedPids(h.stateDir);
      if (signal === 'SIGINT') process.kill(-h.child.pid!, 'SIGINT');
      else h.child.kill('SIGTERM');
      await expectInterrupted(h, pids, signal, 'check');
    });
  }

  it('a second Ctrl-C force-quits: exit 105, and still nothing the run started is left running', async () => {
    // 'stuck': the check stage does not end at the first signal, so only the second can end the run.
    const h = start('force-quit', ['run', 'store-outage', '--duration', '3s', '-q'], { STATEPROOF_SELFTEST_HOLD_CHECK: 'stuck' });
    await h.waitFor(/holding the check stage until a signal/, 60_000);
    const pids = recordedPids(h.stateDir);
    process.kill(-h.child.pid!, 'SIGINT');
    await h.waitFor(/SIGINT received/, 10_000);
    process.kill(-h.child.pid!, 'SIGINT');
    expect(await bounded(h.exit, 30_000, 'the force-quit')).toBe(105);
    expect(h.stderr()).toMatch(/SIGINT again — force-quitting/);
    for (const pid of await stillAlive(pids)) expect.fail(`pid ${pid} still running 5 s after the harness exited`);
    expect(readdirSync(h.stateDir).filter((f) => f.endsWith('.json'))).toEqual([]);
    // Any report directory there is holds a result; none is left empty.
    for (const run of existsSync(h.outDir) ? readdirSync(h.outDir) : []) expect(existsSync(path.join(h.outDir, run, 'result.json'))).toBe(true);
  });
});
