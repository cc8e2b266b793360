/**
 * Child processes with a lifecycle in the types: `startProcess(spec)` returns a started handle
 * (ready by its wait strategy), whose `stop()` returns what the process left. The handle is a
 * FaultableProcess (kill -9, SIGSTOP, SIGCONT, restart), so chaos plans can act on it.
 *
 * Signals always go to the pid this handle spawned, never to a name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { systemClock, type Clock } from '../base/clock.ts';
import { waitUntilReady, type WaitResult, type WaitStrategy, type WaitTarget } from './wait.ts';
import type { FaultableProcess } from './faultable.ts';

export const PROCESS_DEFAULTS = {
  /** Between SIGTERM and SIGKILL on stop. */
  stopTimeoutMs: 5_000,
  logTailLines: 40,
} as const;

export interface RestartOptions {
  schemaVersion?: number;
}

export interface ProcessSpec {
  name: string;
  command: string;
  /** Arguments; a function is called again on every restart (e.g. to pass a new schema version). */
  args: string[] | ((opts: RestartOptions) => string[]);
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  wait: WaitStrategy;
  stopTimeoutMs?: number;
  clock?: Clock;
  /** Told about every pid spawned and every pid that exited (the cleanup registry). */
  tracker?: { addProcess(name: string, pid: number): void; removeProcess(pid: number): void };
  /** Every output line, e.g. to copy a service's stderr into a run log. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface StoppedProcess {
  readonly name: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  logTail(): string;
}

export interface StartedProcess extends FaultableProcess, AsyncDisposable {
  /** What readiness found (e.g. the log line with the URL). Updated on restart. */
  readonly ready: WaitResult;
  readonly running: boolean;
  readonly paused: boolean;
  logTail(): string;
  restart(opts?: RestartOptions): Promise<void>;
  stop(): Promise<StoppedProcess>;
}

export async function startProcess(spec: ProcessSpec): Promise<StartedProcess> {
  const clock = spec.clock ?? systemClock;
  const stopTimeoutMs = spec.stopTimeoutMs ?? PROCESS_DEFAULTS.stopTimeoutMs;
  let child: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let lines: Array<[string, 'stdout' | 'stderr']> = [];
  let listeners = new Set<(line: string, stream: 'stdout' | 'stderr') => void>();
  let ready: WaitResult = {};
  let paused = false;
  let lastExit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
  let restartOpts: RestartOptions = {};

  const logTail = () => lines.map(([l]) => l).join('\n');

  let closed = false;
  // Restarts run one at a time: two at once (a rolling deploy overrunning into the next one) would
  // kill each other's new process half-started, and the loser's clean-up would kill the winner's.
  let restarting: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    // A restart still queued when the handle is stopped must not start a process nobody stops.
    if (closed) throw new Error(`${spec.name} was stopped; not starting it again`);
    lines = [];
    listeners = new Set();
    paused = false;
    const args = typeof spec.args === 'function' ? spec.args(restartOpts) : spec.args;
    // Its own process group: a terminal's Ctrl-C goes to the harness alone, which stops the load,
    // reads this process's /metrics and then stops it (cleanup.ts kills it if the harness dies).
    const c = spawn(spec.command, args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = c;
    exited = new Promise((resolve) => {
      c.once('exit', (code, signal) => {
        lastExit = { code, signal };
        if (c.pid) spec.tracker?.removeProcess(c.pid);
        resolve(lastExit);
      });
      // A spawn failure (ENOENT) emits 'error' and maybe never 'exit'.
      c.once('error', (err) => {
        lines.push([`spawn failed: ${err.message}`, 'stderr']);
        resolve({ code: -1, signal: null });
      });
    });
    if (c.pid) spec.tracker?.addProcess(spec.name, c.pid);
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      c[stream]?.setEncoding('utf8');
      c[stream]?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          lines.push([line, stream]);
          if (lines.length > PROCESS_DEFAULTS.logTailLines) lines.shift();
          spec.onLine?.(line, stream);
          for (const l of listeners) l(line, stream);
        }
      });
    }
    const target: WaitTarget = {
      name: spec.name,
      exited,
      logTail,
      onLine(listener) {
        for (const [l, s] of lines) listener(l, s);
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    try {
      ready = await waitUntilReady(target, spec.wait, clock);
    } catch (e) {
      // This launch's own process only: by now `child` may be another launch's.
      if (child === c) await halt('SIGKILL');
      else if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      throw e;
    }
  };

  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (!running()) return;
    const pid = child.pid!;
    const gone = exited.then(() => true);
    try {
      // A stopped process cannot act on SIGTERM until it is continued (it may have been stopped
      // from outside this handle, e.g. by a fault plan acting on the pid).
      if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    paused = false;
    // The timer is cancelled once the process is gone, so it cannot hold the event loop open.
    const timer = new AbortController();
    const inTime = await Promise.race([gone, clock.sleep(stopTimeoutMs, timer.signal).then(() => false, () => true)]);
    timer.abort();
    if (!inTime) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
      await exited;
    }
  };

  const signalPid = (signal: NodeJS.Signals) => {
    if (!running()) throw new Error(`${spec.name} is not running (last exit: ${JSON.stringify(lastExit)})`);
    process.kill(child.pid!, signal);
  };

  await launch();

  let stopped: Promise<StoppedProcess> | undefined;
  const handle: StartedProcess = {
    name: spec.name,
    get pid() {
      return child.pid ?? -1;
    },
    get ready() {
      return ready;
    },
    get running() {
      return running();
    },
    get paused() {
      return paused;
    },
    logTail,
    async kill9() {
      await halt('SIGKILL');
    },
    async pause() {
      signalPid('SIGSTOP');
      paused = true;
    },
    async resume() {
      signalPid('SIGCONT');
      paused = false;
    },
    restart(opts) {
      const run = restarting.then(async () => {
        if (opts) restartOpts = { ...restartOpts, ...opts };
        await halt('SIGTERM');
        await launch();
      });
      restarting = run.catch(() => {});
      return run;
    },
    stop() {
      closed = true;
      stopped ??= halt('SIGTERM').then(() => ({ name: spec.name, exitCode: lastExit.code, signal: lastExit.signal, logTail }));
      return stopped;
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}
