/**
 * What a blocking VU's worker and its host (the VU on the main thread) say to each other.
 *
 *   worker (the script)                          main thread (the VU's host)
 *   ─ up port: samples, calls, results ───────>  the VU's own k6 modules: metrics, checks, HTTP
 *   <── worker.postMessage: iterations, async replies
 *   <── down port + Atomics.notify(ctl[REPLY]): the answer to a synchronous call
 *
 * A synchronous call (http.get) posts on `up` and waits on ctl[REPLY] with Atomics.wait: the
 * worker's thread, and so only that VU, is blocked; the request itself runs on the main thread's
 * event loop with every other VU's. The answer is taken off `down` with receiveMessageOnPort.
 * Everything the worker posts travels on one port, in order, so the host sees a check or a group
 * change before the request that follows it, as the in-process VU would.
 */
import type { MessagePort } from 'node:worker_threads';
import { UsageError } from '../../base/errors.ts';

/** Int32 cells of the shared control buffer. */
export const CTL = Object.freeze({
  /** 1 when the answer to the pending synchronous call is on `down`. */
  REPLY: 0,
  /** 1 when the init code has run (its result is on `up`). */
  INIT: 1,
  /** The VU's interrupt epoch, written by the host; a change ends a blocking wait with an abort. */
  EPOCH: 2,
  /** Notified on interrupt: wakes a sleep(). */
  SLEEP: 3,
});
export const CTL_CELLS = 4;

export interface WorkerData {
  code: string;
  filename: string;
  vuId: number;
  /** node-html-parser's entry file (k6/html loads it on first use). */
  htmlParser: string;
  env: Record<string, string>;
  options: Record<string, unknown>;
  ctl: SharedArrayBuffer;
  up: MessagePort;
  down: MessagePort;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** UnsupportedFeatureError and friends: end the run. */
  fatal?: boolean;
}

/** The per-iteration context the worker's k6/execution and __ITER read. */
export interface IterationContext {
  iter: number;
  iterationInInstance: number;
  iterationInScenario: number;
  iterationInTest: number;
  /** k6's scenario.iterationInInstance (this runner's count) and vu.idInTest, for execution segments. */
  scenarioIterationInInstance: number;
  vuIdInTest: number;
  scenario: { name: string; executor: string; startTime: number };
  lagMs: number;
  epoch: number;
  startMs: number;
}

export type Down =
  | { t: 'call'; seq: number; fn: string; ctx: IterationContext; env?: Record<string, string>; data?: unknown; sameData: boolean; wantValue: boolean }
  | { t: 'areply'; id: number; value?: unknown; error?: WireError }
  | { t: 'event'; target: number; event: unknown };

export type Up =
  | { t: 'init-done'; exports?: string[]; options?: unknown; error?: WireError }
  | { t: 'done'; seq: number; value?: unknown; error?: WireError }
  | { t: 'check'; name: string; ok: boolean; tags?: Record<string, string> }
  | { t: 'group-in'; name: string }
  | { t: 'group-out'; ms: number }
  | { t: 'define'; name: string; type: 'counter' | 'gauge' | 'rate' | 'trend'; isTime: boolean }
  | { t: 'add'; name: string; value: number; tags?: Record<string, string> }
  | { t: 'tags'; tags: Record<string, string> }
  | { t: 'sync'; op: string; args: unknown[] }
  | { t: 'async'; id: number; op: string; args: unknown[] }
  | { t: 'post'; op: string; args: unknown[] }
  | { t: 'abort'; reason: string }
  | { t: 'error'; error: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const w: WireError = { name: e.name, message: e.message };
    if (e.stack !== undefined) w.stack = e.stack;
    if ((e as { fatal?: boolean }).fatal) w.fatal = true;
    return w;
  }
  return { name: 'Error', message: String(e) };
}

/** A fatal error (a refused feature) comes back as the UsageError it was, so it ends the run as one. */
export function fromWire(w: WireError): Error {
  const e = w.fatal ? Object.assign(new UsageError(w.message), { fatal: true }) : new Error(w.message);
  if (!w.fatal) e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

export const abortError = (message = 'iteration interrupted'): Error => Object.assign(new Error(message), { name: 'AbortError' });
