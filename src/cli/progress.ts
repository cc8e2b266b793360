/**
 * Live progress of a run: one line rewritten in place on a terminal, a plain line every few
 * seconds otherwise (CI logs keep every line, so they must be few and complete).
 */
import type { Progress } from '../engine/types.ts';

export type RunProgress = Progress & { activeFaults: string[]; anomalies: number };

export function progressLine(p: RunProgress): string {
  const secs = (ms: number) => `${Math.floor(ms / 1000)}s`;
  const fault = p.activeFaults.length ? `  fault: ${p.activeFaults.join(', ')}` : '';
  return `${secs(p.elapsedMs)}/${secs(p.totalMs)}  ${p.requestsPerSecond.toFixed(0).padStart(5)} req/s  p99 ${p.p99Ms.toFixed(1)} ms  errors ${p.errors}  anomalies ${p.anomalies}  iterations ${p.iterations}${p.droppedIterations ? `  dropped ${p.droppedIterations}` : ''}${fault}`;
}

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 5_000): { update(p: RunProgress): void; done(): void } {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let drawn = false;
  // Plain: a line every `plainEveryMs` of the run, and its last state once, when it is done.
  let pending: string | undefined;
  return {
    update(p) {
      const line = `${label}  ${progressLine(p)}`;
      if (tty) {
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
        drawn = true;
      } else if (p.elapsedMs - lastPlain >= plainEveryMs) {
        lastPlain = p.elapsedMs;
        pending = undefined;
        stream.write(line + '\n');
      } else pending = line;
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[2K');
      drawn = false;
      if (pending !== undefined) stream.write(pending + '\n');
      pending = undefined;
    },
  };
}
