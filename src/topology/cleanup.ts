/**
 * Nothing a run starts may outlive it. Three layers:
 *
 *  1. async teardown: each run registers its teardown; on SIGINT/SIGTERM the teardowns run (bounded in
 *     time) before the process exits, unless a host holds the signal teardown (holdSignalTeardown):
 *     then the host stops the load, checks and reports while the topology still stands, and tears
 *     down itself;
 *  2. sync last resort: on process 'exit' (normal end, uncaught error) every pid still recorded gets
 *     SIGKILL and every temp dir is removed synchronously;
 *  3. a run file per run under the state dir ({pid of the harness, pids and start times of what it
 *     started, dirs}), so a later run can find and clean what a kill -9'd harness left behind.
 *
 * Pids are verified by their start time (/proc/<pid>/stat) before a signal: a recycled pid is never hit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CLEANUP_DEFAULTS = {
  /** How long signal-time teardown may take before the process exits anyway. */
  signalTeardownMs: 15_000,
  /** How long the sync last resort waits for SIGKILLed processes to be gone. */
  killWaitMs: 3_000,
} as const;

export function stateDir(): string {
  return process.env.STATEPROOF_STATE_DIR ?? path.join(os.tmpdir(), `stateproof-state-${process.getuid?.() ?? 'user'}`, 'runs');
}

/** Start time of a process in clock ticks since boot, or undefined when it is gone (Linux only). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, startTime: string | undefined): boolean {
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || now === startTime;
}

interface RunFile {
  runId: string;
  harnessPid: number;
  harnessStartTime?: string;
  createdAt: string;
  processes: Array<{ name: string; pid: number; startTime?: string }>;
  dirs: string[];
  /** System V shared memory segments a killed process leaves behind (the postmaster's interlock segment). */
  sysvShm?: Array<{ key: number; shmid: number }>;
}

/**
 * Marks a System V segment for removal if it is still the one recorded (same key and id, per
 * /proc/sysvipc/shm); it goes once its last process has detached.
 */
function removeShmVerified(seg: { key: number; shmid: number }): boolean {
  try {
    const lines = readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').slice(1);
    const same = lines.some((l) => {
      const [key, shmid] = l.trim().split(/\s+/);
      return Number(key) === seg.key && Number(shmid) === seg.shmid;
    });
    if (!same) return false;
    execFileSync('ipcrm', ['-m', String(seg.shmid)], { stdio: 'ignore', timeout: 2_000 });
    return true;
  } catch {
    return false;
  }
}

const live = new Set<RunRegistry>();
let handlersInstalled = false;
let signalling = false;
let holds = 0;

/**
 * While held, SIGINT/SIGTERM do not tear the topology down: the host (`stateproof run`, `suite`)
 * turns the signal into an orderly end (stop the load, read the witnesses, check, report, stop)
 * and still needs every process for it. The 'exit' hook (SIGKILL of every recorded pid) stays.
 * Returns the release.
 */
export function holdSignalTeardown(): () => void {
  holds++;
  let released = false;
  return () => {
    if (!released) holds--;
    released = true;
  };
}

/**
 * The last resort at once, for a host that force-quits: SIGKILL every recorded pid, remove the
 * dirs, and forget the runs (nothing is left for a later sweep to find).
 */
export function killAllRunsSync(): void {
  for (const r of [...live]) {
    r.killAllSync();
    r.close();
  }
}

/** The record of one run: what it started, and how to tear it down. */
export class RunRegistry {
  private readonly file: string;
  private readonly data: RunFile;
  private teardown: (() => Promise<void>) | undefined;

  constructor(readonly runId: string) {
    const dir = stateDir();
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${runId}.json`);
    this.data = { runId, harnessPid: process.pid, harnessStartTime: processStartTime(process.pid), createdAt: new Date().toISOString(), processes: [], dirs: [] };
    this.save();
    live.add(this);
    installHandlers();
  }

  get runFile(): string {
    return this.file;
  }

  onTeardown(fn: () => Promise<void>): void {
    this.teardown = fn;
  }

  addProcess(name: string, pid: number): void {
    if (pid <= 0) return;
    this.data.processes = this.data.processes.filter((p) => p.pid !== pid);
    this.data.processes.push({ name, pid, startTime: processStartTime(pid) });
    this.save();
  }

  removeProcess(pid: number): void {
    this.data.processes = this.data.processes.filter((p) => p.pid !== pid);
    this.save();
  }

  addDir(dir: string): void {
    this.data.dirs.push(dir);
    this.save();
  }

  removeDir(dir: string): void {
    this.data.dirs = this.data.dirs.filter((d) => d !== dir);
    this.save();
  }

  addSysvShm(key: number, shmid: number): void {
    this.data.sysvShm = [...(this.data.sysvShm ?? []).filter((s) => s.shmid !== shmid), { key, shmid }];
    this.save();
  }

  removeSysvShm(shmid: number): void {
    this.data.sysvShm = (this.data.sysvShm ?? []).filter((s) => s.shmid !== shmid);
    this.save();
  }

  /**
   * Synchronous last resort: SIGKILL what is left, remove dirs. SIGKILL is delivered when the
   * process is next scheduled, so it waits (bounded) until each is gone: a host that exits right
   * after must not leave a process that is still dying for whoever looks next.
   */
  killAllSync(): void {
    const killed = this.data.processes.filter((p) => killVerified(p.pid, p.startTime));
    waitGoneSync(killed, CLEANUP_DEFAULTS.killWaitMs);
    for (const s of this.data.sysvShm ?? []) removeShmVerified(s);
    for (const d of this.data.dirs) rmSync(d, { recursive: true, force: true });
  }

  async runTeardown(): Promise<void> {
    await this.teardown?.();
  }

  /** The run ended cleanly: forget it. */
  close(): void {
    live.delete(this);
    try {
      unlinkSync(this.file);
    } catch {
      /* already gone */
    }
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    renameSync(tmp, this.file);
  }
}

/** Polls /proc until every process is gone or a zombie, or `ms` have passed; blocks the thread. */
function waitGoneSync(procs: Array<{ pid: number; startTime?: string }>, ms: number): void {
  const deadline = Date.now() + ms;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  let left = procs;
  for (let i = 0; i < 1_000 && left.length > 0 && Date.now() < deadline; i++) {
    Atomics.wait(tick, 0, 0, 5);
    left = left.filter((p) => isAlive(p.pid, p.startTime));
  }
}

function killVerified(pid: number, startTime: string | undefined): boolean {
  if (!isAlive(pid, startTime)) return false;
  try {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const r of live) r.killAllSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      if (holds > 0) return;
      if (live.size === 0) {
        // Nothing of ours is running: behave as if we had no handler.
        if (process.listenerCount(signal) === 1) process.exit(signal === 'SIGINT' ? 130 : 143);
        return;
      }
      if (signalling) return;
      signalling = true;
      // Decided now: the host's own handler may deregister itself once its teardown is done.
      const hostHandles = process.listenerCount(signal) > 1;
      const all = Promise.allSettled([...live].map((r) => r.runTeardown()));
      const bound = new Promise((r) => setTimeout(r, CLEANUP_DEFAULTS.signalTeardownMs).unref());
      void Promise.race([all, bound]).then(() => {
        for (const r of live) r.killAllSync();
        signalling = false;
        // When the host program has its own handler, it decides when to exit.
        if (!hostHandles) process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    };
    process.on(signal, onSignal);
  }
}

export interface SweepReport {
  runs: number;
  processesKilled: Array<{ name: string; pid: number; runId: string }>;
  dirsRemoved: string[];
}

/** Cleans what runs whose harness died (kill -9, power loss of the shell) left behind. */
export function sweepStaleRuns(dir = stateDir()): SweepReport {
  const report: SweepReport = { runs: 0, processesKilled: [], dirsRemoved: [] };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return report;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let run: RunFile;
    try {
      run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
    } catch {
      continue; // being written right now, or not ours
    }
    if (isAlive(run.harnessPid, run.harnessStartTime)) continue;
    report.runs++;
    for (const p of run.processes) if (killVerified(p.pid, p.startTime)) report.processesKilled.push({ name: p.name, pid: p.pid, runId: run.runId });
    for (const s of run.sysvShm ?? []) removeShmVerified(s);
    for (const d of run.dirs) {
      try {
        readdirSync(d);
        rmSync(d, { recursive: true, force: true });
        report.dirsRemoved.push(d);
      } catch {
        /* already gone */
      }
    }
    try {
      unlinkSync(file);
    } catch {
      /* another sweeper took it */
    }
  }
  return report;
}
