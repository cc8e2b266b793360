/**
 * A run whose load comes from runners: `--runners N` (N processes of the built-in engine, or N
 * real k6 processes with --engine k6, each on its execution segment), and/or runners on other
 * machines posting to a sink that listens beyond loopback (`--sink-listen HOST:PORT`).
 *
 *   sink (token, run id) ◀── history, final metrics ── local runners 1..N  (+ remote runners)
 *     │                                                       │
 *     ▼ entries → opts.history (phase stamped on arrival)     ▼ MetricsState each
 *   runners report (done / died / vanished / remote)     merge-results: one summary, thresholds
 *
 * Remote runners are waited for only briefly after the local load ends (until REMOTE_QUIET_MS pass
 * without a batch, at most REMOTE_WAIT_MS): what they sent counts, and each is listed with its
 * last batch time; the run never waits for one that vanished.
 */
import { EnvironmentError, UsageError } from '../../base/errors.ts';
import { startHistorySink, type HistorySinkServer } from '../../record/sink.ts';
import { SINK_ENV } from '../../record/sink-protocol.ts';
import { runBuiltin } from '../builtin.ts';
import { runK6Runners } from '../k6run/run.ts';
import { metricsStateProblem, type MetricsState } from '../metrics/transfer.ts';
import type { EngineResult, HistorySink, RunnerReport, RunScriptOptions, SinkReport } from '../types.ts';
import { runLocalRunners, type LocalRunnerOutcome } from './local-runners.ts';
import { mergeRunnerStates } from './merge-results.ts';
import { checkRunnerCount } from './runner-count.ts';
import { equalSegments } from './runner-spec.ts';

const REMOTE_QUIET_MS = 2_000;
const REMOTE_WAIT_MS = 10_000;
/** Runners one machine may start: each is a whole engine process. */
export const MAX_LOCAL_RUNNERS = 64;

export async function runWithRunners(opts: RunScriptOptions): Promise<EngineResult> {
  const n = opts.runners ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_RUNNERS) throw new UsageError(`--runners must be a whole number from 1 to ${MAX_LOCAL_RUNNERS}; got ${n}`);
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  await checkRunnerCount(opts, n);
  const recorder: HistorySink = {
    record(e) {
      // Runners do not know the fault plan: an entry's phase is the one active when it arrives.
      if (e.phase === undefined && opts.phase) {
        const p = opts.phase();
        if (p !== undefined) e.phase = p;
      }
      opts.history?.record(e);
    },
  };
  const sink = await startHistorySink(recorder, {
    ...(opts.sinkListen ? { host: opts.sinkListen.host, port: opts.sinkListen.port } : {}),
    ...(opts.sinkToken ? { token: opts.sinkToken } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    checkMetrics: metricsStateProblem,
  });
  try {
    if (opts.sinkListen) {
      const port = sink.listen.slice(sink.listen.lastIndexOf(':') + 1);
      log(`stateproof: history sink for run ${sink.runId} listening on ${sink.listen}`);
      log(`stateproof: runners on other machines need ${SINK_ENV.url}=http://<this machine>:${port}/runs/${encodeURIComponent(sink.runId)}/history ${SINK_ENV.token}=${sink.token}`);
    }
    const { segments, sequence } = equalSegments(n);
    let merged: Omit<EngineResult, 'runners' | 'sink' | 'historyEntries'>;
    let local: Array<{ id: string; segment: string; exitCode: number | null; problem?: string; state?: MetricsState; vanished?: boolean }>;
    if (opts.engine === 'k6') {
      const outs = await runK6Runners(opts, sink, segments, sequence, log);
      merged = mergeRunnerStates('k6', outs.map((o) => o.state), outs[0]?.thresholds);
      local = outs.map((o) => ({ id: o.id, segment: o.segment, exitCode: o.exitCode, state: o.state }));
    } else if (n === 1) {
      // One runner and a listening sink: this process runs the load itself, remote runners add theirs.
      const r = await runBuiltin({ ...opts, history: recorder });
      merged = r;
      local = [];
    } else {
      const outs = await runLocalRunners({ opts, sink, segments, sequence, log, ...(opts.runnerSilenceMs !== undefined ? { silenceMs: opts.runnerSilenceMs } : {}) });
      local = outs.map((o) => {
        const state = sink.runners().find((r) => r.id === o.id)?.metrics as MetricsState | undefined;
        return { id: o.id, segment: o.segment, exitCode: o.exitCode, vanished: o.vanished, ...(state ? { state } : { problem: problemOf(o) }) };
      });
      const states = local.flatMap((l) => (l.state ? [l.state] : []));
      if (states.length === 0) throw allFailed(outs);
      merged = mergeRunnerStates('builtin', states, states[0]!.thresholds);
    }
    if (opts.sinkListen) await remoteQuiet(sink);
    const runners = runnerReports(sink, local);
    for (const r of runners) if (r.problem) log(`stateproof: ${r.id} (${r.segment ?? 'remote'}): ${r.problem}`);
    return { ...merged, historyEntries: sink.received, runners, sink: sinkReport(sink) };
  } finally {
    await sink.close();
  }
}

function problemOf(o: LocalRunnerOutcome): string {
  const how = o.vanished ? 'stopped answering and was killed' : o.signal ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
  return `${how} before its final metrics${o.lastError ? ` (last said: ${o.lastError.slice(0, 300)})` : ''}; its load after its last batch is missing from this run`;
}

/** Every runner failed: the first one's own words, as the error the user would have got from one. */
function allFailed(outs: LocalRunnerOutcome[]): Error {
  const first = outs[0]!;
  const said = first.lastError ?? `runner exited with code ${first.exitCode ?? first.signal}`;
  if (first.exitCode === 2) return new UsageError(said);
  return new EnvironmentError(`all ${outs.length} runners failed; ${first.id}: ${said}`);
}

async function remoteQuiet(sink: HistorySinkServer): Promise<void> {
  const started = Date.now();
  let last = sink.stats().batches;
  let lastChangeMs = Date.now();
  while (Date.now() - started < REMOTE_WAIT_MS && Date.now() - lastChangeMs < REMOTE_QUIET_MS) {
    await new Promise((r) => setTimeout(r, 250));
    const now = sink.stats().batches;
    if (now !== last) {
      last = now;
      lastChangeMs = Date.now();
    }
  }
}

function runnerReports(sink: HistorySinkServer, local: Array<{ id: string; segment: string; exitCode: number | null; problem?: string; state?: MetricsState; vanished?: boolean }>): RunnerReport[] {
  const book = new Map(sink.runners().map((r) => [r.id, r]));
  const out: RunnerReport[] = local.map((l) => {
    const r = book.get(l.id);
    return {
      id: l.id,
      segment: l.segment,
      kind: 'local',
      status: l.state ? 'done' : l.vanished ? 'vanished' : 'died',
      requests: l.state ? l.state.counts.requests : null,
      iterations: l.state ? l.state.counts.iterations : null,
      entries: r?.entries ?? 0,
      batches: r?.batches ?? 0,
      lastBatchAtMs: r?.lastBatchAtMs ?? null,
      exitCode: l.exitCode,
      ...(l.problem ? { problem: l.problem } : {}),
    };
  });
  for (const r of book.values()) {
    if (local.some((l) => l.id === r.id)) continue;
    out.push({ id: r.id, segment: null, kind: 'remote', status: 'remote', requests: null, iterations: null, entries: r.entries, batches: r.batches, lastBatchAtMs: r.lastBatchAtMs, exitCode: null });
  }
  return out;
}

function sinkReport(sink: HistorySinkServer): SinkReport {
  const s = sink.stats();
  return { listen: sink.listen, runId: sink.runId, entries: s.entries, batches: s.batches, duplicateBatches: s.duplicateBatches, rejected: { ...s.rejected }, rejectedEntries: s.rejectedEntries };
}
