/**
 * Real k6: `k6 run --out json=<file>` of the k6-target bundle, the JSON stream tailed into the same
 * registry (summary, HDR snapshots), histories from the loopback sink. k6 itself evaluates
 * thresholds (incl. abortOnFail), runs handleSummary and decides the exit code; we report its code.
 * k6 does not expose intended start times, so no "corrected" series come from a k6 run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../../base/errors.ts';
import { hasLoadOverrides } from '../load-overrides.ts';
import { startHistorySink } from '../../record/sink.ts';
import { bundleScript } from '../bundle.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import { buildSummary } from '../summary.ts';
import { nowMs, TestRun } from '../test-run.ts';
import { parseThresholds, Thresholds } from '../thresholds.ts';
import type { EngineResult, RunScriptOptions } from '../types.ts';
import { K6JsonStream } from './json-stream.ts';

const TAIL_INTERVAL_MS = 250;

/** The k6 binary to use: `explicit`, else `k6` on PATH; undefined when there is none. */
export function findK6(explicit?: string): string | undefined {
  const candidate = explicit ?? 'k6';
  const r = spawnSync(candidate, ['version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? candidate : undefined;
}

export async function runK6(opts: RunScriptOptions): Promise<EngineResult> {
  // Real k6 lets nothing outrank a script's own options.scenarios (its --vus/--duration replace them all).
  if (hasLoadOverrides(opts.load)) throw new UsageError('--vus, --duration and --rate rescale each of the scenario\'s executors, which only the built-in engine does; drop them or drop --engine k6');
  const k6 = findK6(opts.k6Path);
  if (!k6) throw new EnvironmentError(`k6 not found (${opts.k6Path ? `--k6 ${opts.k6Path} does not run` : 'not on PATH'}); install k6 or use the built-in engine`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-k6-'));
  const sink = opts.history ? await startHistorySink(opts.history) : undefined;
  const run = new TestRun(opts.env ?? {}, {}, opts.phase, opts.history, {});
  const stream = new K6JsonStream(run.registry, (group, name, ok) => run.check(group, name, ok));
  try {
    const bundle = await bundleScript(opts.scriptPath, { target: 'k6', outFile: path.join(dir, 'script.js') });
    const out = path.join(dir, 'samples.json');
    const env = { ...(opts.env ?? {}), ...(sink ? sink.runnerEnv() : {}) };
    const args = ['run', '--out', `json=${out}`];
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    if (opts.vus !== undefined) args.push('--vus', String(opts.vus));
    if (opts.duration !== undefined) args.push('--duration', typeof opts.duration === 'number' ? `${opts.duration}ms` : opts.duration);
    if (opts.iterations !== undefined) args.push('--iterations', String(opts.iterations));
    args.push(bundle.outFile!);

    run.startMs = nowMs();
    const child = spawn(k6, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const onAbort = () => child.kill('SIGINT');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const exited = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 105 : 1))));

    // Tail the JSON file while k6 writes it: memory stays flat whatever the run's length.
    let offset = 0;
    const buf = Buffer.alloc(1 << 20);
    const readMore = async () => {
      const fh = await open(out, 'r').catch(() => undefined);
      if (!fh) return;
      try {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          stream.feed(buf.subarray(0, bytesRead).toString('utf8'));
        }
      } finally {
        await fh.close();
      }
    };
    let done = false;
    const tail = (async () => {
      while (!done) {
        await readMore();
        await new Promise((r) => setTimeout(r, TAIL_INTERVAL_MS));
        opts.onProgress?.({
          elapsedMs: run.elapsedMs, totalMs: 0, requestsPerSecond: 0,
          requests: (run.registry.metrics.get('http_reqs')?.sink as { count?: number } | undefined)?.count ?? 0,
          errors: 0, p99Ms: run.registry.trend('http_req_duration')?.percentile(99) ?? 0, vusActive: 0,
          iterations: (run.registry.metrics.get('iterations')?.sink as { count?: number } | undefined)?.count ?? 0, droppedIterations: 0,
        });
      }
    })();
    const exitCode = await exited;
    done = true;
    await tail;
    await readMore();
    stream.end();
    opts.signal?.removeEventListener('abort', onAbort);

    const durationMs = run.elapsedMs;
    const specs = parseThresholds(Object.fromEntries(stream.thresholds));
    const results = new Thresholds(specs, run.registry, new Set()).evaluate(durationMs);
    const summary = buildSummary(run, results, durationMs, EXECUTOR_DEFAULTS.summaryTrendStats, undefined);
    const dropped = (run.registry.metrics.get('dropped_iterations')?.sink as { count?: number } | undefined)?.count ?? 0;
    return {
      engine: 'k6',
      exitCode,
      thresholds: results,
      summary,
      metrics: summary.metrics,
      summaryOutputs: stdout ? { stdout } : {},
      hdr: run.registry.snapshots(),
      droppedIterations: dropped,
      historyEntries: sink?.received ?? 0,
      durationMs,
    };
  } finally {
    await sink?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
