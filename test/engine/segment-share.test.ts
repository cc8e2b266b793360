/**
 * The executors' per-segment plans against grafana/k6 v1.3.0's own table tests in lib/executor:
 * ramping_vus_test.go TestRampingVUsExecutionTupleTests (raw execution steps per segment) and
 * ramping_arrival_rate_test.go TestRampingArrivalRateCal (iteration start times per segment).
 */
import { describe, expect, it } from 'vitest';
import { ExecutionTuple } from '../../src/engine/execution-segment.ts';
import { constantSchedule, rampingSchedule } from '../../src/engine/executors/arrival-rate.ts';
import { hasWork, iterationTuple, maxVUsOf, rampingVuSteps, sharedIterationsOf, vusOf } from '../../src/engine/executors/segment-share.ts';
import { resolveScenarios } from '../../src/engine/options.ts';

const scenario = (o: Record<string, unknown>) => resolveScenarios({ scenarios: { s: o } })[0]!;
const tuple = (seg?: string, seq?: string) => ExecutionTuple.parse(seg, seq);

describe('TestRampingVUsExecutionTupleTests (getRawExecutionSteps, zeroEnd false)', () => {
  const stages = [[6, 2], [1, 5], [5, 4], [1, 4], [4, 3], [4, 2], [1, 0], [1, 3], [5, 0], [5, 3], [0, 0], [2, 2], [0, 2], [4, 4]].map(([target, s]) => ({ target, duration: `${s}s` }));
  const c = scenario({ executor: 'ramping-vus', startVUs: 4, stages });
  const steps = (seg?: string, seq?: string) => rampingVuSteps(c, tuple(seg, seq)).map((s) => [s.atMs / 1000, s.vus]);
  const third = [[0, 1], [1, 2], [4, 1], [7, 0], [8, 1], [11, 2], [12, 1], [15, 0], [16, 1], [20, 0], [23, 2], [26, 0], [28, 1], [29, 0], [32, 1]];
  it('unsegmented', () => {
    expect(steps()).toEqual([
      [0, 4], [1, 5], [2, 6], [3, 5], [4, 4], [5, 3], [6, 2], [7, 1], [8, 2], [9, 3], [10, 4], [11, 5], [12, 4], [13, 3], [14, 2], [15, 1],
      [16, 2], [17, 3], [18, 4], [20, 1], [23, 5], [26, 0], [27, 1], [28, 2], [29, 1], [30, 0], [31, 1], [32, 2], [33, 3], [34, 4],
    ]);
  });
  it('0:1/3, 1/3:2/3 and 2/3:1 without a sequence, and 0:1/3 in 0,1/3,1', () => {
    expect(steps('0:1/3')).toEqual(third);
    expect(steps('1/3:2/3')).toEqual(third);
    expect(steps('2/3:1')).toEqual(third);
    expect(steps('0:1/3', '0,1/3,1')).toEqual(third);
  });
  it('the thirds of 0,1/3,2/3,1', () => {
    expect(steps('0:1/3', '0,1/3,2/3,1')).toEqual([[0, 2], [5, 1], [10, 2], [13, 1], [18, 2], [20, 1], [23, 2], [26, 0], [27, 1], [30, 0], [31, 1], [34, 2]]);
    expect(steps('1/3:2/3', '0,1/3,2/3,1')).toEqual(third);
    expect(steps('2/3:1', '0,1/3,2/3,1')).toEqual([[0, 1], [2, 2], [3, 1], [6, 0], [9, 1], [14, 0], [17, 1], [20, 0], [23, 1], [26, 0], [33, 1]]);
  });
});

describe('TestRampingArrivalRateCal', () => {
  const stages = [{ durationMs: 5000, target: 1 }, { durationMs: 1000, target: 1 }, { durationMs: 5000, target: 0 }];
  const times = (t: ExecutionTuple, timeUnitMs = 1000) => {
    const s = rampingSchedule(0, timeUnitMs, stages, t.stripedOffsets());
    const out: number[] = [];
    for (let k = 0; k < 100; k++) {
      const x = s(k);
      if (x === undefined) break;
      out.push(x);
    }
    return out;
  };
  // k6 compares within 0.1 %; so does this.
  const near = (got: number[], want: number[]) => {
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(Math.abs(g - want[i]!) / want[i]!).toBeLessThan(0.001));
  };
  it('per segment', () => {
    near(times(tuple()), [3162, 4472, 5500, 6527, 7837, 11000]);
    near(times(tuple('0:1/3')), [4472, 7837]);
    near(times(tuple('0:1/3', '0,1/3,1')), [4472, 7837]);
    near(times(tuple('1/3:2/3')), [4472, 7837]);
    near(times(tuple('2/3:1')), [4472, 7837]);
    near(times(tuple('0:1/3', '0,1/3,2/3,1')), [3162, 6527]);
    near(times(tuple('1/3:2/3', '0,1/3,2/3,1')), [4472, 7837]);
    near(times(tuple('2/3:1', '0,1/3,2/3,1')), [5500, 11000]);
  });
  it('three times as fast (timeUnit 1/3 s)', () => {
    near(times(tuple(), 1000 / 3), [1825, 2581, 3162, 3651, 4082, 4472, 4830, 5166, 5499, 5833, 6169, 6527, 6917, 7348, 7837, 8418, 9174, 10999]);
  });
});

describe('constant-arrival-rate: the segments start exactly the unsegmented schedule between them', () => {
  it('0,1/3,2/3,1 of 10/s for 3 s with 7 maxVUs: 13, 9, 8 arrivals, disjoint, at the unsegmented times', () => {
    const c = scenario({ executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '3s', preAllocatedVUs: 7, maxVUs: 7 });
    const all = (t: ExecutionTuple) => {
      const s = constantSchedule(c.rate, c.timeUnitMs, c.durationMs, iterationTuple(c, t).stripedOffsets());
      const out: number[] = [];
      for (let k = 0, x = s(0); x !== undefined; x = s(++k)) out.push(x);
      return out;
    };
    const parts = ['0:1/3', '1/3:2/3', '2/3:1'].map((seg) => all(tuple(seg, '0,1/3,2/3,1')));
    expect(parts.map((p) => p.length)).toEqual([13, 9, 8]);
    expect(parts.flat().sort((a, b) => a - b)).toEqual(all(tuple()));
  });
});

describe("each executor's share (HasWork, VUs, iterations)", () => {
  const thirds = ['0:1/3', '1/3:2/3', '2/3:1'].map((s) => tuple(s, '0,1/3,2/3,1'));
  it('shared-iterations follows its VUs: 7 VUs, 50 iterations over thirds', () => {
    const c = scenario({ executor: 'shared-iterations', vus: 7, iterations: 50 });
    expect(thirds.map((t) => [vusOf(c, t), sharedIterationsOf(c, t)])).toEqual([[3, 22], [2, 14], [2, 14]]);
  });
  it('a segment with none of the VUs has no work, as k6 skips it', () => {
    const c = scenario({ executor: 'constant-vus', vus: 1, duration: '1s' });
    expect(thirds.map((t) => hasWork(c, t))).toEqual([true, false, false]);
    const a = scenario({ executor: 'constant-arrival-rate', rate: 5, duration: '1s', preAllocatedVUs: 1, maxVUs: 2 });
    expect(thirds.map((t) => [hasWork(a, t), vusOf(a, t), maxVUsOf(a, t)])).toEqual([[true, 1, 1], [true, 0, 1], [false, 0, 0]]);
  });
});
