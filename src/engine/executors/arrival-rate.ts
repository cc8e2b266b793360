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
import { maxVUsOf } from './segment-share.ts';
import { gracefulStop, waitUntil, type ScenarioRun } from './scenario-run.ts';

/** Start offsets (ms from scenario start) of this segment's iterations 0, 1, 2...; undefined past the end. */
export type Schedule = (k: number) => number | undefined;

/** Which global iteration indexes are this segment's: GetStripedOffsets of the executor's tuple. */
export interface Striping {
  start: number;
  offsets: number[];
  lcd: number;
}

export const UNSEGMENTED: Striping = Object.freeze({ start: 0, offsets: [1], lcd: 1 }) as Striping;

/** The global index of this segment's k-th iteration (k6 walks it as gi += offsets[li % len]). */
export function globalIndex(k: number, s: Striping): number {
  const cycle = Math.floor(k / s.offsets.length);
  let gi = s.start + cycle * s.lcd;
  for (let j = 0; j < k % s.offsets.length; j++) gi += s.offsets[j]!;
  return gi;
}

const NS_PER_MS = 1e6;

/**
 * constant-arrival-rate as k6 schedules it: the unscaled ticker period, truncated to whole
 * nanoseconds as Go's time.Duration truncates it, times the global index; a segment starts only
 * its striped indexes, so the segments together start exactly the unsegmented schedule.
 */
export function constantSchedule(rate: number, timeUnitMs: number, durationMs: number, striping: Striping = UNSEGMENTED): Schedule {
  const periodNs = Math.trunc((timeUnitMs * NS_PER_MS) / rate);
  return (k) => {
    if (rate <= 0) return undefined;
    const t = (periodNs * globalIndex(k, striping)) / NS_PER_MS;
    return t < durationMs ? t : undefined;
  };
}

/**
 * ramping-arrival-rate as k6's RampingArrivalRateConfig.cal computes it, in float64 nanoseconds:
 * global iteration i (1-based) starts where the integral of the piecewise linear rate reaches i.
 * Each stage's cumulative count (endCount) is accumulated in k6's order, so rounding matches too.
 */
export function rampingSchedule(startRate: number, timeUnitMs: number, stages: Stage[], striping: Striping = UNSEGMENTED): Schedule {
  const timeUnit = timeUnitMs * NS_PER_MS;
  const plan: Array<{ from: number; to: number; dur: number; doneSoFar: number; endCount: number; startNs: number }> = [];
  let from = startRate / timeUnit;
  let endCount = 0;
  let doneSoFar = 0;
  let startNs = 0;
  for (const st of stages) {
    const to = st.target / timeUnit;
    const dur = Math.round(st.durationMs * NS_PER_MS);
    endCount += from !== to ? dur * ((to - from) / 2 + from) : dur * to;
    plan.push({ from, to, dur, doneSoFar, endCount, startNs });
    doneSoFar = endCount;
    from = to;
    startNs += dur;
  }
  let p = 0;
  return (k) => {
    const i = globalIndex(k, striping) + 1;
    while (p < plan.length && !(i <= plan[p]!.endCount)) p++;
    const st = plan[p];
    if (!st) return undefined;
    let x: number;
    if (st.from !== st.to) {
      const under = st.dur * (st.from * st.from * st.dur + 2 * (i - st.doneSoFar) * (st.to - st.from));
      x = (st.from * st.dur - (under >= 0 ? Math.sqrt(under) : 0)) / (st.from - st.to);
    } else x = (i - st.doneSoFar) / st.to;
    return (Math.trunc(x) + st.startNs) / NS_PER_MS;
  };
}

export async function arrivalRate(s: ScenarioRun): Promise<void> {
  const c = s.config;
  const striping = s.iterationTuple.stripedOffsets();
  const schedule =
    c.executor === 'constant-arrival-rate'
      ? constantSchedule(c.rate, c.timeUnitMs, c.durationMs, striping)
      : rampingSchedule(c.startRate, c.timeUnitMs, c.stages, striping);
  const preAllocatedVUs = s.tuple.scaleInt64(c.preAllocatedVUs);
  const maxVUs = maxVUsOf(c, s.tuple);
  const totalMs = c.executor === 'constant-arrival-rate' ? c.durationMs : c.stages.reduce((a, x) => a + x.durationMs, 0);
  const end = s.startedAtMs + totalMs;
  const signal = s.run.abortController.signal;
  const clock = s.run.clock;
  s.setProgress(() => (clock.now() - s.startedAtMs) / totalMs);

  const free: VU[] = [];
  for (let i = 0; i < preAllocatedVUs; i++) {
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
    // Compared as offsets: at epoch-ms magnitudes a sum loses the nanoseconds k6's schedule keeps
    // (rate 3/s puts the 4th start at 999.999999 ms of a 1 s scenario, and k6 starts it).
    if (offset >= totalMs) break;
    const intended = s.startedAtMs + offset;
    if (!(await waitUntil(clock, intended, signal))) break;
    if (k % 64 === 63) await yieldToLoop();
    const vu = free.pop();
    if (!vu) {
      s.dropped(1);
      omitted.push(intended);
      if (s.vusHeld < maxVUs) {
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
