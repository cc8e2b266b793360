/**
 * Closed-model executors: a VU starts its next iteration when the previous one ends.
 * constant-vus, per-vu-iterations, shared-iterations (k6 semantics, incl. dropped_iterations for
 * iterations never started when maxDuration runs out).
 */
import { gracefulStop, type ScenarioRun } from './scenario-run.ts';
import { sharedIterationsOf } from './segment-share.ts';

/** Lets timers and I/O run between iterations that finish without awaiting anything. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function constantVus(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const end = s.startedAtMs + c.durationMs;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  s.setProgress(() => (clock.now() - s.startedAtMs) / c.durationMs);
  const loops = Array.from({ length: s.tuple.scaleInt64(c.vus) }, async () => {
    const vu = s.take();
    if (!vu) return;
    try {
      let n = 0;
      while (clock.now() < end && !signal.aborted) {
        if ((await s.iteration(vu)) === 'interrupted') break;
        if (++n % 32 === 0) await yieldToLoop();
      }
    } finally {
      s.give(vu);
    }
  });
  await gracefulStop(s, loops, end + c.gracefulStopMs);
}

export async function perVuIterations(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const end = s.startedAtMs + c.maxDurationMs;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  let started = 0;
  const vus = s.tuple.scaleInt64(c.vus);
  s.setProgress(() => started / (vus * c.iterations));
  const loops = Array.from({ length: vus }, async () => {
    const vu = s.take();
    if (!vu) return;
    let mine = 0;
    try {
      while (mine < c.iterations && clock.now() < end && !signal.aborted) {
        mine++;
        started++;
        if ((await s.iteration(vu)) === 'interrupted') break;
        if (mine % 32 === 0) await yieldToLoop();
      }
    } finally {
      s.give(vu);
      s.dropped(c.iterations - mine);
    }
  });
  await gracefulStop(s, loops, end + c.gracefulStopMs);
}

export async function sharedIterations(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const end = s.startedAtMs + c.maxDurationMs;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  let started = 0;
  const iterations = sharedIterationsOf(c, s.tuple);
  s.setProgress(() => started / iterations);
  const loops = Array.from({ length: s.tuple.scaleInt64(c.vus) }, async () => {
    const vu = s.take();
    if (!vu) return;
    try {
      let n = 0;
      while (started < iterations && clock.now() < end && !signal.aborted) {
        started++;
        if ((await s.iteration(vu)) === 'interrupted') break;
        if (++n % 32 === 0) await yieldToLoop();
      }
    } finally {
      s.give(vu);
    }
  });
  await gracefulStop(s, loops, end + c.gracefulStopMs);
  s.dropped(iterations - started);
}
