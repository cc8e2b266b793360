/** What callers of the engine pass in and get back (INTERFACES.md section 3). */
import type { Clock } from '../base/clock.ts';
import type { LoadOverrides } from './load-overrides.ts';
import type { HdrSnapshot } from './metrics/registry.ts';
import type { MetricsState } from './metrics/transfer.ts';
import type { SummaryData } from './summary.ts';
import type { HistorySink } from './test-run.ts';
import type { ThresholdResult } from './thresholds.ts';
import type { FailureReason } from './failure-reasons.ts';

export type { HistorySink } from './test-run.ts';
export type { HdrSnapshot } from './metrics/registry.ts';
export type { SummaryData, SummaryMetric } from './summary.ts';
export type { ThresholdResult } from './thresholds.ts';
export type { FailureReason } from './failure-reasons.ts';

/**
 * The scenario a VU is running, as the VU and k6/execution read it. executors/scenario-run.ts
 * implements it; the VU depends on this shape only, so the VU does not import the executors.
 */
export interface VuScenario {
  readonly config: { readonly name: string; readonly executor: string };
  /** Global tags, the scenario's tags and its name: the start of every sample's tags in it. */
  readonly baseTags: Readonly<Record<string, string>>;
  /** Arrival-rate executors: latency is also recorded from the intended start (coordinated omission). */
  readonly openModel: boolean;
  /** Epoch ms. */
  readonly startedAtMs: number;
  /** Share of the scenario done, 0..1. */
  progress(): number;
}

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
  /**
   * k6's --execution-segment and --execution-segment-sequence ("1/3:2/3", "0,1/3,2/3,1", "50%"):
   * this run does only its segment's share of every executor, as k6 computes it
   * (execution-segment.ts, executors/segment-share.ts). Undefined: the whole test.
   */
  executionSegment?: string;
  executionSegmentSequence?: string;
  /** stateproof's --vus / --duration / --rate: applied to each of the script's executors (load-overrides.ts). */
  load?: LoadOverrides;
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
  /**
   * The built-in engine's schedule runs on it: scenario start times, durations, arrival times,
   * iteration start and end, progress. Default the real monotonic clock (monotonicClock); a test
   * passes a fake one. Request timings always read the real clock (performance.now()).
   */
  clock?: Clock;
  /** Built-in engine: also return the registry as mergeable data (`metricsState`), as a runner process does. */
  exportMetrics?: boolean;
  /**
   * Split the load across this many runner processes, each with its execution segment i/N:(i+1)/N
   * (as k6-operator's parallelism: N), all recording into this run through the history sink.
   */
  runners?: number;
  /** Where the history sink listens (default 127.0.0.1 on an ephemeral port); runners elsewhere need a reachable one. */
  sinkListen?: { host: string; port: number };
  /** The sink's bearer token (default: random per run). */
  sinkToken?: string;
  /** The run id in the sink's path (default: random). */
  runId?: string;
  /** How long a runner process may say nothing before it is killed and reported vanished. Default 30 s. */
  runnerSilenceMs?: number;
  /** Lines for the user (where the sink listens, runners starting and ending). Default stderr. */
  log?: (line: string) => void;
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
  /**
   * Built-in engine: requests sent whose answer the client threw away when the test stopped
   * (interrupted iterations, or still in flight at the end). The service may have served and
   * counted them; no history entry records them. Real k6 does not say.
   */
  requestsAbandoned?: number;
  /** With exportMetrics: the registry as data, merged exactly by the run that started this runner. */
  metricsState?: MetricsState;
  /** When the load came from runners (--runners, or remote ones through --sink-listen): what each did. */
  runners?: RunnerReport[];
  /** The history sink's book, when one served the run: applied, duplicates, refusals by reason. */
  sink?: SinkReport;
}

export interface RunnerReport {
  id: string;
  /** Its execution segment, e.g. "1/3:2/3" (remote runners: unknown). */
  segment: string | null;
  /** local: a process this run started; remote: one that only posted to the sink. */
  kind: 'local' | 'remote';
  /** done: it finished and its metrics merged; died: it exited early; vanished: it stopped answering and was killed; remote: only its history is known. */
  status: 'done' | 'died' | 'vanished' | 'remote';
  requests: number | null;
  iterations: number | null;
  entries: number;
  batches: number;
  lastBatchAtMs: number | null;
  exitCode: number | null;
  /** What went wrong, in one line, when it did. */
  problem?: string;
}

export interface SinkReport {
  listen: string;
  runId: string;
  entries: number;
  batches: number;
  duplicateBatches: number;
  rejected: Record<string, number>;
  rejectedEntries: number;
}
