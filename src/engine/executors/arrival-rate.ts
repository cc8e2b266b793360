/**
 * Open-model executors: iterations start on a schedule, whatever the system under test does.
 * constant-arrival-rate and ramping-arrival-rate, with k6's rules: an iteration whose start finds
 * no free VU is DROPPED (counted in dropped_iterations) and, while the scenario holds fewer than
 * maxVUs, one more VU is initialised for the iterations to come.
 *
 * Coordinated omission: every iteration carries its intended start, and requests measure their
 * corrected latency from it. A dropped iteration would have waited at least until a VU came free,
 * so that wait is recorded in the corrected histograms as a lower bound (tag dropped=true); without
 * it a stall that makes the executor drop iterations would vanish from the corrected percentiles.
 *
 *   schedule t0, t1, t2 ... ──> free VU? ──yes──> iteration(vu, intended = ti)
 *                                  └──no───> dropped_iterations += 1, omitted.push(ti)
 *   a VU comes free at T ──> corrected += (T - ti) for every omitted ti
 */
import type { Stage } from '../options.ts';
import type { VU } from '../vu.ts';
import { yieldToLoop } from './closed.ts';
import { gracefulStop, waitUntil, type ScenarioRun } from './scenario-run.ts';

/** Start offsets (ms from scenario start) of iterations 0, 1, 2...; undefined past the end. */
export type Schedule = (k: number) => number | undefined;

export function constantSchedule(rate: number, timeUnitMs: number, durationMs: number): Schedule {
  const intervalMs = timeUnitMs / rate;
  return (k) => {
    const t = k * intervalMs;
    return rate > 0 && t < durationMs ? t : undefined;
  };
}

/**
 * Iteration k starts where the integral of the (piecewise linear) rate reaches k (k+1 when the
 * rate starts at 0, so nothing starts before the rate has risen).
 */
export function rampingSchedule(startRate: number, timeUnitMs: number, stages: Stage[]): Schedule {
  const offset = startRate > 0 ? 0 : 1;
  let stage = 0;
  let stageStartMs = 0;
  let countBefore = 0; // iterations due before the current stage
  let from = startRate / timeUnitMs;
  return (k) => {
    const want = k + offset;
    while (stage < stages.length) {
      const st = stages[stage]!;
      const to = st.target / timeUnitMs;
      const d = st.durationMs;
      const inStage = d > 0 ? ((from + to) / 2) * d : 0;
      if (want < countBefore + inStage || (want === countBefore && from > 0)) {
        const m = want - countBefore;
        const a = (to - from) / (2 * d);
        const tau = Math.abs(a) < 1e-15 ? m / from : (-from + Math.sqrt(Math.max(0, from * from + 4 * a * m))) / (2 * a);
        return stageStartMs + tau;
      }
      countBefore += inStage;
      stageStartMs += d;
      from = to;
      stage++;
    }
    return undefined;
  };
}

export async function arrivalRate(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const schedule =
    c.executor === 'constant-arrival-rate' ? constantSchedule(c.rate, c.timeUnitMs, c.durationMs) : rampingSchedule(c.startRate, c.timeUnitMs, c.stages);
  const totalMs = c.executor === 'constant-arrival-rate' ? c.durationMs : c.stages.reduce((a, x) => a + x.durationMs, 0);
  const end = s.startedAtMs + totalMs;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  s.setProgress(() => (clock.now() - s.startedAtMs) / totalMs);

  const free: VU[] = [];
  for (let i = 0; i < c.preAllocatedVUs; i++) {
    const vu = s.take();
    if (vu) free.push(vu);
  }
  const omitted: number[] = [];
  const dropTags = { ...s.run.globalTags, ...c.tags, scenario: c.name, dropped: 'true' };
  const dropSeries = s.run.registry.seriesKey(dropTags);
  const flushOmitted = (freeAtMs: number) => {
    for (const t of omitted) {
      s.run.registry.addCorrected('http_req_duration', freeAtMs - t, dropSeries);
      s.run.registry.addCorrected('iteration_duration', freeAtMs - t, dropSeries);
    }
    omitted.length = 0;
  };
  const running = new Set<Promise<void>>();
  for (let k = 0; ; k++) {
    const offset = schedule(k);
    if (offset === undefined) break;
    const intended = s.startedAtMs + offset;
    if (intended >= end) break;
    if (!(await waitUntil(clock, intended, signal))) break;
    if (k % 64 === 63) await yieldToLoop();
    const vu = free.pop();
    if (!vu) {
      s.dropped(1);
      omitted.push(intended);
      if (s.vusHeld < c.maxVUs) {
        const extra = s.take(true);
        if (extra) free.push(extra);
      }
      continue;
    }
    const p = s.iteration(vu, intended).then(() => {
      running.delete(p);
      free.push(vu);
      if (omitted.length) flushOmitted(clock.now());
    });
    running.add(p);
  }
  await gracefulStop(s, [...running], end + c.gracefulStopMs);
  if (omitted.length) flushOmitted(clock.now());
  for (const vu of free) s.give(vu);
}
