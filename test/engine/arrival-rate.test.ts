/**
 * The open-model executors on a fake clock: which iterations they schedule, which they drop and
 * what they record for the dropped ones, exactly. Real runs of the same executors (test/engine/
 * executors.test.ts) can only check what a busy machine cannot change; how closely a real run
 * holds its rate is a figure in `npm run bench schedule`.
 */
import { monotonicClock } from '../../src/base/clock.ts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExecutionTuple } from '../../src/engine/execution-segment.ts';
import { arrivalRate } from '../../src/engine/executors/arrival-rate.ts';
import type { ScenarioRun } from '../../src/engine/executors/scenario-run.ts';
import { resolveScenarios } from '../../src/engine/options.ts';
import { nowMs } from '../../src/engine/test-run.ts';

/** Epoch-ms offsets keep about 1/4000 ms of precision: comparisons are to 3 decimals. */
interface Started {
  vu: number;
  /** Offsets from the scenario's start, ms. */
  intendedMs: number;
  atMs: number;
}

/**
 * The part of ScenarioRun the executor uses, with iterations that take `serviceMs` of fake time:
 * it records every start, drop and corrected sample so a test can compare them with the plan.
 */
function fakeScenario(scenario: Record<string, unknown>, serviceMs: number) {
  const [config] = resolveScenarios({ scenarios: { s: scenario } });
  const started: Started[] = [];
  const corrected: Array<{ metric: string; valueMs: number }> = [];
  let nextVu = 0;
  const fake = {
    config: config!,
    // Unsegmented: the whole schedule (segmented schedules: test/engine/segments.test.ts).
    tuple: ExecutionTuple.full(),
    iterationTuple: ExecutionTuple.full(),
    startedAtMs: nowMs(),
    droppedIterations: 0,
    vusHeld: 0,
    run: {
      // The schedule's clock (TestRun.clock): performance.now, faked with the timers.
      clock: monotonicClock,
      abortController: new AbortController(),
      globalTags: {},
      registry: {
        seriesKey: () => 'dropped',
        addCorrected: (metric: string, valueMs: number) => corrected.push({ metric, valueMs }),
      },
    },
    setProgress: () => {},
    take: () => {
      fake.vusHeld++;
      return { id: nextVu++ };
    },
    give: () => {},
    dropped: (n: number) => (fake.droppedIterations += n),
    interruptAll: () => {},
    iteration: (vu: { id: number }, intendedStartMs: number) => {
      started.push({ vu: vu.id, intendedMs: intendedStartMs - fake.startedAtMs, atMs: nowMs() - fake.startedAtMs });
      return new Promise<'completed'>((r) => setTimeout(() => r('completed'), serviceMs));
    },
  };
  return { scenario: fake as unknown as ScenarioRun, fake, started, corrected };
}

async function runToEnd(s: ScenarioRun): Promise<void> {
  const done = arrivalRate(s);
  await vi.runAllTimersAsync();
  await done;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('constant-arrival-rate on a fake clock', () => {
  it('starts rate × duration iterations, each at its planned time, and drops none while VUs suffice', async () => {
    const { scenario, fake, started } = fakeScenario({ executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 20, maxVUs: 50 }, 10);
    await runToEnd(scenario);
    expect(started).toHaveLength(600);
    expect(fake.droppedIterations).toBe(0);
    started.forEach((s, k) => {
      expect(s.intendedMs).toBeCloseTo(k * 5, 3);
      expect(s.atMs).toBeCloseTo(s.intendedMs, 3);
    });
    // 10 ms iterations every 5 ms keep two VUs busy: the 20 preallocated suffice, none is added.
    expect(fake.vusHeld).toBe(20);
  });

  it('drops an iteration that finds no free VU and initialises one more VU for the next, up to maxVUs', async () => {
    // 12 ms iterations every 5 ms need three VUs; it starts with one.
    const { scenario, fake, started } = fakeScenario({ executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 1, maxVUs: 5 }, 12);
    await runToEnd(scenario);
    // t=5: no VU free, dropped, a 2nd VU made; t=20: both busy, dropped, a 3rd made; then 3 suffice.
    expect(fake.droppedIterations).toBe(2);
    expect(fake.vusHeld).toBe(3);
    expect(started).toHaveLength(598);
    expect(started.map((s) => s.intendedMs).slice(0, 4)).toEqual([0, 10, 15, 25]);
  });

  it('with maxVUs all busy, drops what falls due and records each drop as a corrected lower bound', async () => {
    // 499 ms iterations, one VU, 20/s for 1 s: iterations at 0 and 500 run; the 18 between are dropped.
    const { scenario, fake, started, corrected } = fakeScenario({ executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '1s', preAllocatedVUs: 1, maxVUs: 1 }, 499);
    await runToEnd(scenario);
    expect(started.map((s) => s.intendedMs)).toEqual([0, 500]);
    expect(fake.droppedIterations).toBe(18);
    // Each dropped iteration waited at least until the VU came free (at 499 and 999 ms).
    const waits = [50, 100, 150, 200, 250, 300, 350, 400, 450].map((t) => 499 - t);
    const expected = [...waits, ...waits].sort((a, b) => a - b);
    for (const metric of ['http_req_duration', 'iteration_duration']) {
      const got = corrected.filter((c) => c.metric === metric).map((c) => c.valueMs).sort((a, b) => a - b);
      expect(got).toHaveLength(18);
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    }
  });
});

describe('ramping-arrival-rate on a fake clock', () => {
  it('follows its stages: 0 → 100/s over 1 s (50 due), then 100/s for 1 s (100 due)', async () => {
    const { scenario, fake, started } = fakeScenario(
      { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 20, stages: [{ target: 100, duration: '1s' }, { target: 100, duration: '1s' }] },
      5,
    );
    await runToEnd(scenario);
    expect(fake.droppedIterations).toBe(0);
    const at = started.map((s) => s.intendedMs);
    // Nothing starts before the rate has risen: the 1st is due where the ramp's integral reaches 1,
    // at sqrt(2 × 1 / (0.1/s per ms)) ≈ 141 ms; the 50th is due at the end of the ramp, 1000 ms.
    expect(at[0]).toBeCloseTo(Math.sqrt(20_000), 3);
    expect(at.filter((t) => t < 1000)).toHaveLength(49);
    expect(at.filter((t) => t >= 1000)).toHaveLength(100);
    expect(at.every((t, i) => i === 0 || t > at[i - 1]!)).toBe(true);
    // Steady part: one every 10 ms.
    at.slice(49).forEach((t, i) => expect(t).toBeCloseTo(1000 + i * 10, 3));
    // Timers fire on whole milliseconds: a start is within 1 ms of its fractional due time.
    started.forEach((s) => expect(Math.abs(s.atMs - s.intendedMs)).toBeLessThan(1));
  });
});
