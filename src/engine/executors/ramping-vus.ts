/**
 * ramping-vus: the number of looping VUs follows the stages linearly. As in k6's execution plan, a
 * VU slot i is active once the line reaches i+1 on the way up and until it falls to i on the way
 * down (under an execution segment, the slots are the segment's striped share of the ramp: see
 * segment-share.ts); a VU that leaves the plan finishes its iteration within gracefulRampDown or
 * is interrupted.
 */
import { yieldToLoop } from './closed.ts';
import { gracefulStop, waitUntil, type ScenarioRun } from './scenario-run.ts';
import { rampingVuSteps, vusAtStep } from './segment-share.ts';

const CONTROL_TICK_MS = 10;

export async function rampingVus(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const total = c.stages.reduce((a, x) => a + x.durationMs, 0);
  const end = s.startedAtMs + total;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  // k6's raw execution steps of this segment (the whole ramp when unsegmented: vusAt's counts).
  const steps = rampingVuSteps(c, s.tuple);
  const maxVUs = Math.max(0, ...steps.map((x) => x.vus));
  const planned = () => vusAtStep(steps, clock.now() - s.startedAtMs);
  s.setProgress(() => (clock.now() - s.startedAtMs) / total);
  const excessSince = new Array<number | undefined>(maxVUs).fill(undefined);
  const running = new Array<import('../vu.ts').VU | undefined>(maxVUs).fill(undefined);

  // Interrupts iterations of slots that left the plan more than gracefulRampDown ago.
  const control = setInterval(() => {
    const n = planned();
    const now = clock.now();
    for (let i = 0; i < maxVUs; i++) {
      if (i < n) excessSince[i] = undefined;
      else if (running[i]) {
        excessSince[i] ??= now;
        if (now - excessSince[i]! > c.gracefulRampDownMs) running[i]!.interrupt();
      }
    }
  }, CONTROL_TICK_MS);

  const loops = Array.from({ length: maxVUs }, async (_, i) => {
    let vu: import('../vu.ts').VU | undefined;
    let n = 0;
    try {
      while (clock.now() < end && !signal.aborted) {
        if (i >= planned()) {
          if (vu) {
            s.give(vu);
            vu = undefined;
          }
          await waitUntil(clock, Math.min(end, clock.now() + CONTROL_TICK_MS), signal);
          continue;
        }
        vu ??= s.take();
        if (!vu) return;
        running[i] = vu;
        await s.iteration(vu);
        running[i] = undefined;
        if (++n % 32 === 0) await yieldToLoop();
      }
    } finally {
      running[i] = undefined;
      if (vu) s.give(vu);
    }
  });
  try {
    await gracefulStop(s, loops, end + c.gracefulStopMs);
  } finally {
    clearInterval(control);
  }
}
