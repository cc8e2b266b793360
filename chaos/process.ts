/**
 * Process faults: kill -9, SIGSTOP/SIGCONT, restart, and a rolling restart (optionally onto a new
 * schema version, and back again for a rollback). They act on FaultableProcess, which topology
 * implements for service instances and redis-server.
 */
import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../src/base/clock.ts';

export interface FaultableProcess {
  readonly name: string;
  readonly pid: number;
  kill9(): Promise<void>; // SIGKILL, no restart
  pause(): Promise<void>; // SIGSTOP
  resume(): Promise<void>; // SIGCONT
  restart(opts?: { schemaVersion?: number }): Promise<void>; // stop, start again (optionally new version), wait ready
}

/** What applying a fault gives back: whether its effect was seen, and how to undo it. */
export interface AppliedFault {
  verified: boolean;
  /** What the check saw, for the report (e.g. "SET answered OOM"). */
  detail?: string;
  undo(): Promise<void>;
  /** A bound on this undo longer than the run's, for an undo that is real work (moving slots back). */
  undoTimeoutMs?: number;
}

const nothingToUndo = async (): Promise<void> => {};

/** True while a process with this pid exists (and is not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return (await processState(pid)) !== 'Z';
}

/** The state letter from /proc/<pid>/stat (R, S, T = stopped, Z = zombie…); undefined off Linux. */
export async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** kill -9; undone by restarting the process. */
export async function killProcess(p: FaultableProcess): Promise<AppliedFault> {
  const pid = p.pid;
  await p.kill9();
  const dead = !(await isAlive(pid));
  return { verified: dead, detail: dead ? `pid ${pid} is gone` : `pid ${pid} still alive`, undo: () => p.restart() };
}

/** SIGSTOP; undone by SIGCONT. */
export async function stopProcess(p: FaultableProcess): Promise<AppliedFault> {
  await p.pause();
  const state = await processState(p.pid);
  // Off Linux there is no /proc to look at: trust the signal.
  const verified = state === undefined ? true : state === 'T' || state === 't';
  return { verified, detail: `pid ${p.pid} state ${state ?? 'unknown'}`, undo: () => p.resume() };
}

/** Restart (optionally onto a schema version); instant, nothing to undo. */
export async function restartProcess(p: FaultableProcess, opts: { schemaVersion?: number } = {}): Promise<AppliedFault> {
  await p.restart(opts.schemaVersion === undefined ? undefined : { schemaVersion: opts.schemaVersion });
  const alive = await isAlive(p.pid);
  return { verified: alive, detail: `pid ${p.pid} ${alive ? 'up' : 'not running'} after restart`, undo: nothingToUndo };
}

/**
 * Restart each process in turn with `gapMs` between them, as a deploy does; with a
 * schemaVersion this is a rolling deploy (and a later one to the old version, a rollback).
 */
export async function rollingRestart(
  processes: FaultableProcess[],
  opts: { schemaVersion?: number; gapMs?: number; signal?: AbortSignal; clock?: Clock } = {},
): Promise<AppliedFault> {
  const details: string[] = [];
  let verified = true;
  for (const [i, p] of processes.entries()) {
    if (opts.signal?.aborted) {
      verified = false;
      details.push('aborted');
      break;
    }
    // The gap is served in full even when the signal aborts meanwhile: the next turn sees the abort.
    if (i > 0 && opts.gapMs) await (opts.clock ?? systemClock).sleep(opts.gapMs);
    const one = await restartProcess(p, opts);
    verified &&= one.verified;
    details.push(`${p.name}: ${one.detail}`);
  }
  return { verified, detail: details.join('; '), undo: nothingToUndo };
}
