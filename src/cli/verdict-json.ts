/**
 * `--json` for run and suite: the verdict as one JSON document on stdout, for scripts and CI.
 * Field names are stable; paths are absolute. Everything else the command says goes to stderr.
 */
import path from 'node:path';
import type { RunResult } from '../report/result-schema.ts';
import { verdictKind, type Interruption, type VerdictKind } from '../report/verdict.ts';

export interface RunVerdictJson {
  verdict: VerdictKind;
  exitCode: number;
  /** Present when SIGINT/SIGTERM cut the run short: the signal, the stage, how long the load had run. */
  interrupted?: Interruption;
  runId: string;
  scenario: string;
  profile: string;
  engine: string | undefined;
  backend: string | undefined;
  reasons: string[];
  invariants: Array<{ name: string; holds: boolean; anomalies: number; partial?: true }>;
  thresholds: Array<{ metric: string; expression: string; ok: boolean; observed: string | undefined }>;
  notChecked: string[];
  notInjected: string[];
  operations: { count: number; errorRate: number; refused503: number; degraded: number };
  report: { dir: string; html: string; result: string; summary: string; junit: string };
}

export function runVerdictJson(result: RunResult, runDir: string, exitCode: number): RunVerdictJson {
  const dir = path.resolve(runDir);
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return {
    verdict: verdictKind(result.verdict),
    exitCode,
    ...(result.verdict.interrupted ? { interrupted: result.verdict.interrupted } : {}),
    runId: result.runId,
    scenario: result.scenario.name,
    profile: result.scenario.profile,
    engine: result.scenario.engine,
    backend: result.scenario.backend,
    reasons: result.verdict.reasons,
    invariants: result.invariants.map((i) => ({ name: i.name, holds: i.holds, anomalies: i.anomalies.length, ...(i.partial ? { partial: true as const } : {}) })),
    thresholds: result.thresholds.map((t) => ({ metric: t.metric, expression: t.expression, ok: t.ok, observed: t.observed })),
    notChecked: [...list(result.config.uncheckedInvariants), ...list(result.config.notSelectedInvariants)],
    notInjected: list(result.config.skippedFaults),
    operations: { count: result.metrics.totals.count, errorRate: result.metrics.errorRate, refused503: result.metrics.byStatus['503'] ?? 0, degraded: result.metrics.totals.degraded },
    report: {
      dir,
      html: path.join(dir, 'index.html'),
      result: path.join(dir, 'result.json'),
      summary: path.join(dir, 'summary.md'),
      junit: path.join(dir, 'junit.xml'),
    },
  };
}

export function writeJson(value: unknown, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(JSON.stringify(value, null, 2) + '\n');
}
