/**
 * One runner process: the built-in engine on its execution segment, its history and final
 * metrics sent to the run's sink (src/record/sink-client.ts). Started by ./local-runners.ts as
 *   node --import tsx src/engine/runners/runner-main.ts '<RunnerSpec JSON>'
 * with an IPC channel, on which it says it is alive every second and reports progress.
 *
 * Exit code: the engine's (k6's codes); 3 when the sink refused it or could not be reached
 * (its history would be lost); a user error's own code (2, 3) when the script cannot run.
 */
import { isUserError } from '../../base/errors.ts';
import { SinkClient } from '../../record/sink-client.ts';
import { runBuiltin } from '../builtin.ts';
import type { RunnerMessage, RunnerSpec } from './runner-spec.ts';

const EXIT_SINK = 3;

const spec = JSON.parse(process.argv[2] ?? '{}') as RunnerSpec;
const say = (m: RunnerMessage) => process.send?.(m);
const err = (line: string) => process.stderr.write(`${line}\n`);

const abort = new AbortController();
let refused: string | undefined;
const client = new SinkClient({
  url: spec.url,
  metricsUrl: spec.metricsUrl,
  token: spec.token,
  runner: spec.id,
  onRefused: (message) => {
    refused = message;
    err(`stateproof runner ${spec.id}: ${message}; stopping (what it measured would be lost)`);
    abort.abort();
  },
});
const alive = setInterval(() => say({ type: 'alive' }), 1000);
const stop = () => abort.abort();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The run that started this runner is gone: nobody would read what it measures.
process.once('disconnect', stop);

let code: number;
try {
  say({ type: 'alive' });
  const result = await runBuiltin({
    scriptPath: spec.scriptPath,
    env: spec.env,
    vus: spec.vus,
    duration: spec.duration,
    iterations: spec.iterations,
    load: spec.load,
    history: client,
    exportMetrics: true,
    signal: abort.signal,
    onProgress: (progress) => say({ type: 'progress', progress }),
    executionSegment: spec.segment,
    executionSegmentSequence: spec.sequence,
  });
  await client.finish(result.metricsState);
  code = refused ? EXIT_SINK : result.exitCode;
} catch (e) {
  client.stop();
  if (refused) code = EXIT_SINK;
  else if (isUserError(e)) {
    err(e.message);
    code = e.exitCode;
  } else {
    err(`stateproof runner ${spec.id} crashed: ${(e as Error).stack ?? String(e)}`);
    code = 4;
  }
} finally {
  clearInterval(alive);
}
process.exitCode = code;
process.disconnect?.();
