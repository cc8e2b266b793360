/**
 * Ctrl-C (SIGINT) and SIGTERM during `run` and `suite`, as k6 treats them: the first stops the
 * load and the run ends in order (faults undone, the partial history checked, the reports written
 * with the verdict "interrupted", the topology stopped, exit 105); a second force-quits at once
 * (every process the run started is killed, exit 105, no report beyond what was already written).
 *
 * While installed it holds the topology's own signal teardown (cleanup.ts), which would otherwise
 * stop the store and the instances before their witnesses are read.
 */
import { EXIT_INTERRUPTED } from '../base/errors.ts';
import { holdSignalTeardown, killAllRunsSync } from '../topology/cleanup.ts';

export interface Interruptible {
  /** Aborted on the first signal; its reason is the signal's name ("SIGINT", "SIGTERM"). */
  signal: AbortSignal;
  dispose(): void;
}

export function interruptible(opts: { stream?: NodeJS.WritableStream; exit?: (code: number) => never } = {}): Interruptible {
  const stream = opts.stream ?? process.stderr;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  const release = holdSignalTeardown();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      stream.write(
        `\nstateproof: ${sig} received — stopping the load; the partial history is checked and reported (verdict: interrupted, exit ${EXIT_INTERRUPTED}), then everything is torn down. ` +
          `${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to force-quit (processes are killed, no report).\n`,
      );
      controller.abort(sig);
      return;
    }
    stream.write(`\nstateproof: ${sig} again — force-quitting: killing every process the run started; exit ${EXIT_INTERRUPTED}\n`);
    killAllRunsSync();
    exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      release();
    },
  };
}
