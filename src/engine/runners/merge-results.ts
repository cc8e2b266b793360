/**
 * Many runners' metrics as one engine result: their states merged exactly into one registry
 * (./../metrics/transfer.ts), the script's thresholds evaluated over the merge, one summary.
 * Each runner also judged its thresholds on its own segment while it ran (abortOnFail acts per
 * runner, as it does per k6-operator pod); the verdict is the merged one.
 */
import { EXIT } from '../builtin.ts';
import { mergeMetrics, type MetricsState } from '../metrics/transfer.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import { buildSummary, textSummary } from '../summary.ts';
import { TestRun, UNMEASURED_METRICS } from '../test-run.ts';
import { parseThresholds, Thresholds } from '../thresholds.ts';
import type { EngineResult } from '../types.ts';

export function mergeRunnerStates(engine: 'builtin' | 'k6', states: MetricsState[], thresholdsRaw: unknown): Omit<EngineResult, 'runners' | 'sink' | 'historyEntries'> {
  const run = new TestRun({}, {}, undefined, undefined, {});
  for (const s of states) mergeMetrics(run, s);
  const durationMs = Math.max(0, ...states.map((s) => s.durationMs));
  const thresholds = new Thresholds(parseThresholds(thresholdsRaw ?? undefined), run.registry, engine === 'k6' ? new Set() : UNMEASURED_METRICS).evaluate(durationMs);
  const summary = buildSummary(run, thresholds, durationMs, EXECUTOR_DEFAULTS.summaryTrendStats, undefined);
  const failed = thresholds.some((t) => !t.ok);
  // A runner's own threshold verdict (99) was on its segment only: the merged one replaces it.
  const other = states.map((s) => s.exitCode).find((c) => c !== EXIT.ok && c !== EXIT.thresholdsFailed);
  const exitCode = failed ? EXIT.thresholdsFailed : (other ?? EXIT.ok);
  const aborted = states.find((s) => s.aborted)?.aborted;
  return {
    engine,
    exitCode,
    ...(aborted ? { aborted } : {}),
    thresholds,
    summary,
    metrics: summary.metrics,
    summaryOutputs: { stdout: textSummary(summary) },
    hdr: run.registry.snapshots(),
    droppedIterations: states.reduce((a, s) => a + s.counts.droppedIterations, 0),
    durationMs,
  };
}
