/** What callers of the engine pass in and get back (INTERFACES.md section 3). */
import type { HdrSnapshot } from './metrics/registry.ts';
import type { SummaryData } from './summary.ts';
import type { HistorySink } from './test-run.ts';
import type { ThresholdResult } from './thresholds.ts';
import type { FailureReason } from './failure-reasons.ts';

export type { HistorySink } from './test-run.ts';
export type { HdrSnapshot } from './metrics/registry.ts';
export type { SummaryData, SummaryMetric } from './summary.ts';
export type { ThresholdResult } from './thresholds.ts';
export type { FailureReason } from './failure-reasons.ts';

/** A live view of the run, emitted every `progressIntervalMs` and once at the end. */
export interface Progress {
  elapsedMs: number;
  /** Planned length of the test (longest scenario incl. startTime, without graceful stop). */
  totalMs: number;
  /** Requests per second over the last interval. */
  requestsPerSecond: number;
  requests: number;
  /** Requests that failed (transport error or unexpected status). */
  errors: number;
  /** p99 of http_req_duration so far (service time), ms; 0 before the first request. */
  p99Ms: number;
  vusActive: number;
  iterations: number;
  droppedIterations: number;
  phase?: string;
}

export interface RunScriptOptions {
  /** A k6 script, .ts or .js. */
  scriptPath: string;
  /** __ENV for the script (`-e KEY=VALUE`). */
  env?: Record<string, string>;
  /** k6's --vus / --duration / --iterations overrides (duration: "30s" or ms). */
  vus?: number;
  duration?: string | number;
  iterations?: number;
  /** Receives history entries from scenarios/lib/history.ts (in-process, or via the sink under k6). */
  history?: HistorySink;
  /** Aborting stops the test as Ctrl-C stops k6: teardown and summary still run (exit code 105). */
  signal?: AbortSignal;
  /**
   * Current phase label (e.g. the active fault's id, "before", "after"). Called as samples are taken;
   * the label becomes the `phase` tag of every sample and HDR series, and the `phase` of history
   * entries that have none. Must be cheap (it runs per request).
   */
  phase?: () => string | undefined;
  onProgress?: (p: Progress) => void;
  /** Default 1000. */
  progressIntervalMs?: number;
  /** 'builtin' (default) or 'k6' (real k6; `k6Path` or `k6` on PATH). */
  engine?: 'builtin' | 'k6';
  k6Path?: string;
}

export interface EngineResult {
  engine: 'builtin' | 'k6';
  /** k6's exit code: 0, 99 thresholds failed, 105 external abort, 107 script exception, 108 test.abort(). */
  exitCode: number;
  /** Why the run stopped early, when it did. */
  aborted?: { reason: string; exitCode: number };
  thresholds: ThresholdResult[];
  /** The object handleSummary(data) receives. */
  summary: SummaryData;
  /** Same as summary.metrics (convenience). */
  metrics: SummaryData['metrics'];
  /** What handleSummary returned (or the default: {stdout: text summary}); write with writeSummaryOutputs(). */
  summaryOutputs: Record<string, string | ArrayBuffer>;
  /** Compressed HDR snapshots, µs, per metric, kind (value | corrected) and series tag set. */
  hdr: HdrSnapshot[];
  droppedIterations: number;
  historyEntries: number;
  durationMs: number;
  /** Built-in engine: why failed requests failed, each distinct reason once, first seen first (real k6 logs its own WARN lines). */
  requestFailures?: { reasons: FailureReason[]; overflow: number };
}
