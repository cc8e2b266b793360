/**
 * ramping-vus: the number of looping VUs follows the stages linearly. As in k6's execution plan, a
 * VU slot i is active once the line reaches i+1 on the way up and until it falls to i on the way
 * down; a VU that leaves the plan finishes its iteration within gracefulRampDown or is interrupted.
 */
import type { Stage } from '../options.ts';
import { yieldToLoop } from './closed.ts';
import { gracefulStop, waitUntil, type ScenarioRun } from './scenario-run.ts';

const CONTROL_TICK_MS = 10;

export function vusAt(startVUs: number, stages: Stage[], tMs: number): number {
  let from = startVUs;
  let t0 = 0;
  for (const st of stages) {
    if (tMs < t0 + st.durationMs) {
      const v = from + ((st.target - from) * (tMs - t0)) / st.durationMs;
      return st.target >= from ? Math.floor(v) : Math.ceil(v);
    }
    from = st.target;
    t0 += st.durationMs;
  }
  return from;
}

export async function rampingVus(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const total = c.stages.reduce((a, x) => a + x.durationMs, 0);
  const end = s.startedAtMs + total;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  const maxVUs = Math.max(c.startVUs, ...c.stages.map((x) => x.target));
  const planned = () => vusAt(c.startVUs, c.stages, clock.now() - s.startedAtMs);
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
