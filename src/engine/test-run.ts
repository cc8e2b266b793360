/**
 * State shared by every VU of one run: the metrics registry, the built-in metrics, the group/check
 * tree for the summary, run-wide counters k6/execution exposes, and how the run ends (abort reason).
 */
import { createHash } from 'node:crypto';
import { monotonicClock, monotonicNowMs, type Clock } from '../base/clock.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { TlsConnectOptions } from './k6/tls-options.ts';
import { Registry, type Metric, type Tags } from './metrics/registry.ts';
import { FailureReasons } from './failure-reasons.ts';

/**
 * Real time in fractional epoch ms, monotonic within the process (history entries use this axis):
 * for measuring what a script and its requests do. The schedule reads `TestRun.clock` instead.
 */
export const nowMs = monotonicNowMs;
/** nowMs() for a performance.now() reading already taken (the clock is read once where both are needed). */
export { epochMsAt } from '../base/clock.ts';

/** Receives history entries (without id); assigns ids. Implemented by src/record/sink.ts. */
export interface HistorySink {
  record(entry: Omit<HistoryEntry, 'id'>): void;
}

export interface CheckNode {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}

export interface GroupNode {
  name: string;
  path: string;
  id: string;
  groups: GroupNode[];
  checks: CheckNode[];
}

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export function newGroup(name: string, path: string): GroupNode {
  return { name, path, id: md5(path), groups: [], checks: [] };
}

/** Metrics the built-in engine does not measure: thresholds on them are refused by name. */
export const UNMEASURED_METRICS: ReadonlySet<string> = new Set([
  'http_req_blocked', 'http_req_connecting', 'http_req_tls_handshaking', 'http_req_sending', 'data_sent', 'data_received',
]);

export class Abort {
  constructor(
    readonly reason: string,
    readonly exitCode: number,
  ) {}
}

export class TestRun {
  readonly registry = new Registry();
  readonly m: Record<
    | 'http_reqs' | 'http_req_duration' | 'http_req_waiting' | 'http_req_receiving' | 'http_req_failed'
    | 'iterations' | 'iteration_duration' | 'dropped_iterations' | 'vus' | 'vus_max' | 'checks' | 'group_duration',
    Metric
  >;
  readonly rootGroup = newGroup('', '');
  private readonly groups = new Map<string, GroupNode>([['', this.rootGroup]]);
  startMs = 0;
  vusActive = 0;
  vusInitialized = 0;
  iterationsCompleted = 0;
  iterationsInterrupted = 0;
  requests = 0;
  historyEntries = 0;
  requestErrors = 0;
  /** Requests awaiting their answer right now. */
  requestsInFlight = 0;
  /** Requests whose answer an interrupt (a stop, a VU interrupted) threw away. */
  requestsAbandoned = 0;
  /** Why the failed requests failed (http_req_failed alone does not say). */
  readonly failureReasons = new FailureReasons();
  abort: Abort | undefined;
  readonly abortController = new AbortController();
  /** First fatal engine-side problem (an unimplemented feature used mid-run). */
  fatal: Error | undefined;
  discardResponseBodies = false;
  /** Connect options of https: connections, from k6's TLS options (undefined: Node's defaults). */
  tls: TlsConnectOptions | undefined;
  warnedOnce = new Set<string>();

  constructor(
    readonly env: Record<string, string>,
    readonly globalTags: Tags,
    readonly phase: (() => string | undefined) | undefined,
    readonly history: HistorySink | undefined,
    readonly options: Record<string, unknown>,
    /** The schedule's time: start times, durations, arrival times, iteration start and end, progress. */
    readonly clock: Clock = monotonicClock,
  ) {
    const r = this.registry;
    this.m = {
      http_reqs: r.define('http_reqs', 'counter'),
      http_req_duration: r.define('http_req_duration', 'trend', 'time'),
      http_req_waiting: r.define('http_req_waiting', 'trend', 'time'),
      http_req_receiving: r.define('http_req_receiving', 'trend', 'time'),
      http_req_failed: r.define('http_req_failed', 'rate'),
      iterations: r.define('iterations', 'counter'),
      iteration_duration: r.define('iteration_duration', 'trend', 'time'),
      dropped_iterations: r.define('dropped_iterations', 'counter'),
      vus: r.define('vus', 'gauge'),
      vus_max: r.define('vus_max', 'gauge'),
      checks: r.define('checks', 'rate'),
      group_duration: r.define('group_duration', 'trend', 'time'),
    };
  }

  get elapsedMs(): number {
    return this.startMs ? this.clock.now() - this.startMs : 0;
  }

  get stopping(): boolean {
    return this.abort !== undefined || this.fatal !== undefined;
  }

  group(path: string): GroupNode {
    let g = this.groups.get(path);
    if (!g) {
      const cut = path.lastIndexOf('::');
      const parent = this.group(path.slice(0, cut));
      g = newGroup(path.slice(cut + 2), path);
      parent.groups.push(g);
      this.groups.set(path, g);
    }
    return g;
  }

  check(groupPath: string, name: string, ok: boolean): void {
    const g = this.group(groupPath);
    let c = g.checks.find((x) => x.name === name);
    if (!c) {
      const path = `${groupPath}::${name}`;
      c = { name, path, id: md5(path), passes: 0, fails: 0 };
      g.checks.push(c);
    }
    if (ok) c.passes++;
    else c.fails++;
  }

  stop(abort: Abort): void {
    if (this.abort) return;
    this.abort = abort;
    this.abortController.abort();
  }

  failFatal(e: Error): void {
    if (this.fatal) return;
    this.fatal = e;
    this.abortController.abort();
  }

  warnOnce(key: string, message: string): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    process.stderr.write(`stateproof engine: warning: ${message}\n`);
  }
}
