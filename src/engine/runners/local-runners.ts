/**
 * N built-in engine processes on one machine, each on its execution segment, all recording into
 * this run's sink — what k6-operator's `parallelism: N` does with pods, with processes.
 *
 *   spawn runner-1..N (runner-main.ts, IPC) ──history, final metrics──> sink (this process)
 *        │ alive every 1 s, progress                                     │
 *        ▼                                                               ▼
 *   watchdog: silent past silenceMs → SIGKILL, "vanished"        merge-results (exact)
 *   exit before its final metrics → "died" (exit code, last stderr line)
 *
 * A runner is never waited on forever: one that stops answering is killed and reported with the
 * time of its last batch; the others' work still counts, and the loss is stated.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HistorySinkServer } from '../../record/sink.ts';
import type { Progress, RunScriptOptions } from '../types.ts';
import type { RunnerMessage, RunnerSpec } from './runner-spec.ts';

const RUNNER_MAIN = fileURLToPath(new URL('./runner-main.ts', import.meta.url));
/** How long a runner may say nothing before it counts as vanished. */
export const RUNNER_SILENCE_MS = 30_000;
/** Before its first word a runner is still loading (TypeScript, the bundle): on a busy machine that takes a while. */
const RUNNER_STARTUP_MS = 120_000;
/** After asking runners to stop (Ctrl-C), how long before they are killed. */
const STOP_GRACE_MS = 30_000;

export interface LocalRunnerOutcome {
  id: string;
  segment: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  vanished: boolean;
  /** The last line it wrote to stderr (why it died, usually). */
  lastError: string | undefined;
}

export interface LocalRunnersInput {
  opts: RunScriptOptions;
  sink: HistorySinkServer;
  segments: string[];
  sequence: string;
  log: (line: string) => void;
  silenceMs?: number;
}

export async function runLocalRunners(input: LocalRunnersInput): Promise<LocalRunnerOutcome[]> {
  const { opts, sink, segments, sequence, log } = input;
  const silenceMs = input.silenceMs ?? RUNNER_SILENCE_MS;
  const progress = new Map<string, Progress>();
  const children: Array<{ id: string; child: ChildProcess; lastAliveMs: number; spoke: boolean; outcome: LocalRunnerOutcome; done: Promise<void> }> = [];
  for (let i = 0; i < segments.length; i++) {
    const id = `runner-${i + 1}`;
    sink.expectRunner(id);
    const spec: RunnerSpec = {
      id,
      segment: segments[i]!,
      sequence,
      scriptPath: opts.scriptPath,
      env: { ...(opts.env ?? {}), STATEPROOF_RUNNER_ID: id },
      ...(opts.vus !== undefined ? { vus: opts.vus } : {}),
      ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
      ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
      ...(opts.load ? { load: opts.load } : {}),
      url: sink.url,
      metricsUrl: sink.metricsUrl,
      token: sink.token,
    };
    const child = fork(RUNNER_MAIN, [JSON.stringify(spec)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    const outcome: LocalRunnerOutcome = { id, segment: spec.segment, exitCode: null, signal: null, vanished: false, lastError: undefined };
    const entry = { id, child, lastAliveMs: Date.now(), spoke: false, outcome, done: Promise.resolve() };
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        outcome.lastError = line.trim();
        log(`${id}: ${line}`);
      }
    });
    child.on('message', (m: RunnerMessage) => {
      entry.lastAliveMs = Date.now();
      entry.spoke = true;
      if (m.type === 'progress') progress.set(id, m.progress);
    });
    entry.done = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        outcome.exitCode = code;
        outcome.signal = signal;
        resolve();
      });
      child.once('error', (e) => {
        outcome.lastError = e.message;
        resolve();
      });
    });
    children.push(entry);
  }
  log(`stateproof: ${segments.length} runners started (segments ${segments.join(', ')}), recording into run ${sink.runId}`);

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const c of children) {
      if (c.outcome.exitCode !== null || c.outcome.signal !== null || c.outcome.vanished) continue;
      if (now - c.lastAliveMs > (c.spoke ? silenceMs : Math.max(silenceMs, RUNNER_STARTUP_MS))) {
        c.outcome.vanished = true;
        log(`stateproof: ${c.id} has said nothing for ${Math.round((now - c.lastAliveMs) / 1000)} s; killing it and going on without it`);
        c.child.kill('SIGKILL');
      }
    }
    if (opts.onProgress && progress.size) opts.onProgress(sumProgress([...progress.values()]));
  }, 1000);
  const onAbort = () => {
    for (const c of children) c.child.kill('SIGTERM');
    setTimeout(() => children.forEach((c) => c.child.kill('SIGKILL')), STOP_GRACE_MS).unref();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(children.map((c) => c.done));
  } finally {
    clearInterval(watchdog);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  }
  if (opts.onProgress && progress.size) opts.onProgress(sumProgress([...progress.values()]));
  return children.map((c) => c.outcome);
}

function sumProgress(all: Progress[]): Progress {
  const sum = (f: (p: Progress) => number) => all.reduce((a, p) => a + f(p), 0);
  return {
    elapsedMs: Math.max(...all.map((p) => p.elapsedMs)),
    totalMs: Math.max(...all.map((p) => p.totalMs)),
    requestsPerSecond: sum((p) => p.requestsPerSecond),
    requests: sum((p) => p.requests),
    errors: sum((p) => p.errors),
    p99Ms: Math.max(...all.map((p) => p.p99Ms)),
    vusActive: sum((p) => p.vusActive),
    iterations: sum((p) => p.iterations),
    droppedIterations: sum((p) => p.droppedIterations),
    ...(all[0]?.phase !== undefined ? { phase: all[0].phase } : {}),
  };
}
