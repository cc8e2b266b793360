/**
 * `stateproof k6 <script>`: a drop-in for `k6 run` with the built-in engine (or real k6 with --k6).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatFailureReasons, legacySummaryExport, runScript, writeSummaryOutputs, type Progress } from '../../engine/index.ts';
import { formatDuration, parseFlagDurationMs } from '../../engine/duration.ts';
import { parseEnvPairs } from '../config.ts';
import { UsageError } from '../../base/errors.ts';

export const help = `Usage: stateproof k6 <script.ts|script.js> [options]

Runs a k6 script with the built-in engine (k6's executors, checks, metrics, thresholds,
summary and handleSummary, in Node), or with real k6 when --k6 is given. Flags mean what
they mean to \`k6 run\`; --duration/--iterations replace the script's scenarios, as in k6.

Durations: --duration needs a unit (30s, 1m30s, 500ms; no "d") and must be more than 0, as
k6's flag does: a bare number such as --duration 10 is refused, not run for 10 ms. Inside a script, k6's options
rules apply: options.duration: 10 (or "10") is 10 milliseconds.
--vus must be at least 1: 0 VUs is refused, as k6 refuses it for every executor that runs VUs.

Options:
  -e, --env KEY=VALUE        set __ENV.KEY (repeatable)
  -u, --vus N                number of VUs (at least 1)
  -d, --duration D           test duration with a unit, e.g. 30s, 1m30s, 500ms
  -i, --iterations N         total iterations (shared between VUs)
      --execution-segment SEG
                             run only this share of every executor, as k6 does: 1/3:2/3,
                             0.5:1, 25%:50%, or a single value v meaning 0:v
      --execution-segment-sequence SEQ
                             all runners' segments, e.g. 0,1/3,2/3,1: k6 stripes VUs and
                             iterations across them so the shares add up to the whole test
      --summary-export FILE  write the end-of-test summary as JSON (k6's legacy export format)
      --k6 PATH              run with the real k6 binary at PATH instead of the built-in engine
  -q, --quiet                no live progress line
  -h, --help                 this help

Execution segments split one test across runners exactly as k6 (and k6-operator's
parallelism) does: each runner computes its own share of VUs, iterations and arrivals from
its segment and the sequence, and the runners together do what one run would.

Exit codes (k6's): 0 pass, 99 a threshold failed, 105 interrupted, 107 setup/teardown
script error, 108 test.abort(); 2 bad flags or a k6 feature the built-in engine lacks;
4 stateproof itself failed (a harness bug; one line names the crash log).

Examples:
  stateproof k6 script.js
  stateproof k6 scenarios/store-outage.ts -e STATEPROOF_TARGET=http://127.0.0.1:8080 --vus 10 --duration 30s
  stateproof k6 script.ts --iterations 100 --summary-export summary.json
  stateproof k6 script.ts --execution-segment 1/3:2/3 --execution-segment-sequence 0,1/3,2/3,1
`;

function intFlag(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: expected a non-negative integer, got "${v}"`);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}, got ${n}${flag === '--vus' ? ' (k6 refuses 0 VUs too: "the number of VUs should be more than 0")' : ''}.`);
  return n;
}

function durationFlag(v: string): number {
  const ms = parseFlagDurationMs(v, '--duration');
  // k6: "`duration` should be more than 0, for infinite duration use the externally-controlled executor".
  if (ms <= 0) throw new UsageError(`--duration must be more than 0, got "${v}" (k6 refuses it too).`);
  return ms;
}

function progressLine(p: Progress): string {
  const total = p.totalMs ? `/${formatDuration(p.totalMs)}` : '';
  return (
    `running ${formatDuration(p.elapsedMs)}${total}  ${p.vusActive} VUs  ${p.iterations} iterations` +
    `  ${Math.round(p.requestsPerSecond)} req/s  p99 ${p.p99Ms.toFixed(1)} ms  errors ${p.errors}` +
    (p.droppedIterations ? `  dropped ${p.droppedIterations}` : '') +
    (p.phase ? `  phase ${p.phase}` : '')
  );
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      env: { type: 'string', short: 'e', multiple: true },
      vus: { type: 'string', short: 'u' },
      duration: { type: 'string', short: 'd' },
      iterations: { type: 'string', short: 'i' },
      'summary-export': { type: 'string' },
      'execution-segment': { type: 'string' },
      'execution-segment-sequence': { type: 'string' },
      k6: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one script, got ${positionals.length}. Example: stateproof k6 script.js --vus 10 --duration 30s`);
  const env = parseEnvPairs(values.env ?? []);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const live = !values.quiet && process.stderr.isTTY;
  try {
    const result = await runScript({
      scriptPath: positionals[0]!,
      env,
      ...(values.vus !== undefined ? { vus: intFlag(values.vus, '--vus', 1) } : {}),
      ...(values.iterations !== undefined ? { iterations: intFlag(values.iterations, '--iterations', 0) } : {}),
      // Checked as k6's flag parser would, then passed on in milliseconds, which both engines read alike.
      ...(values.duration !== undefined ? { duration: `${durationFlag(values.duration)}ms` } : {}),
      ...(values['execution-segment'] !== undefined ? { executionSegment: values['execution-segment'] } : {}),
      ...(values['execution-segment-sequence'] !== undefined ? { executionSegmentSequence: values['execution-segment-sequence'] } : {}),
      signal: controller.signal,
      ...(values.k6 !== undefined ? { engine: 'k6' as const, k6Path: values.k6 } : {}),
      ...(live ? { onProgress: (p: Progress) => process.stderr.write(`\r\x1b[K${progressLine(p)}`) } : {}),
    });
    if (live) process.stderr.write('\n');
    await writeSummaryOutputs(result.summaryOutputs);
    if (values['summary-export']) await writeFile(values['summary-export'], JSON.stringify(legacySummaryExport(result.summary), null, 2) + '\n');
    if (result.requestFailures) for (const line of formatFailureReasons(result.requestFailures.reasons, result.requestFailures.overflow)) process.stderr.write(line + '\n');
    for (const t of result.thresholds.filter((x) => !x.ok)) {
      process.stderr.write(`ERRO thresholds on metrics '${t.metric}' have been crossed: ${t.source} (observed ${Number(t.observed.toFixed(4))})\n`);
    }
    if (result.aborted) process.stderr.write(`ERRO ${result.aborted.reason}\n`);
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
