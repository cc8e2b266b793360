/** The live progress line off a terminal: a plain line every 5 s of the run and its last state once, whatever the tick rate. */
import { describe, expect, it } from 'vitest';
import { progressReporter, type RunProgress } from '../../src/cli/progress.ts';

function sink() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(...s.split('\n').filter(Boolean)), true) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

const at = (elapsedMs: number, extra: Partial<RunProgress> = {}): RunProgress => ({
  elapsedMs, totalMs: 10_000, requestsPerSecond: 40, requests: elapsedMs / 25, errors: 0, p99Ms: 3.5, vusActive: 2, iterations: elapsedMs / 25, droppedIterations: 0, activeFaults: [], anomalies: 0, ...extra,
});

describe('progressReporter (not a terminal)', () => {
  it('prints every 5 s and the end once, even when updated 4 times a second and past the planned length', () => {
    const { lines, stream } = sink();
    const r = progressReporter('store-outage', stream);
    for (let ms = 250; ms <= 14_000; ms += 250) r.update(at(ms, ms >= 3_000 && ms < 7_000 ? { activeFaults: ['link-down'] } : {}));
    r.done();
    r.done();
    expect(lines).toEqual([
      'store-outage  5s/10s     40 req/s  p99 3.5 ms  errors 0  anomalies 0  iterations 200  fault: link-down',
      'store-outage  10s/10s     40 req/s  p99 3.5 ms  errors 0  anomalies 0  iterations 400',
      'store-outage  14s/10s     40 req/s  p99 3.5 ms  errors 0  anomalies 0  iterations 560',
    ]);
  });

  it('an interrupted run still ends with its last state', () => {
    const { lines, stream } = sink();
    const r = progressReporter('x', stream);
    r.update(at(1_000));
    r.update(at(2_000));
    r.done();
    expect(lines).toEqual(['x  2s/10s     40 req/s  p99 3.5 ms  errors 0  anomalies 0  iterations 80']);
  });
});
