/**
 * The partitioning, checked against grafana/k6 v1.3.0's own table tests in
 * lib/execution_segment_test.go (the cases and expected values are copied from there; each
 * describe names the Go test it comes from).
 */
import { describe, expect, it } from 'vitest';
import { ExecutionSegment, ExecutionSegmentError, ExecutionSegmentSequence, ExecutionTuple, SegmentedIndex } from '../../src/engine/execution-segment.ts';

const seg = (s: string) => ExecutionSegment.parse(s);
const seq = (s: string) => ExecutionSegmentSequence.parse(s);

describe('TestExecutionSegmentUnmarshalText', () => {
  const ok: Array<[string, string]> = [
    ['0:1', '0:1'], ['0.5:0.75', '1/2:3/4'], ['1/2:3/4', '1/2:3/4'], ['50%:75%', '1/2:3/4'], ['2/4:75%', '1/2:3/4'], ['75%', '0:3/4'], ['', '0:1'],
  ];
  for (const [input, want] of ok) {
    it(`"${input}" is ${want}, and its string parses back to it`, () => {
      const s = seg(input);
      expect(s.toString()).toBe(want);
      expect(seg(s.toString()).equals(s)).toBe(true);
    });
  }
  for (const bad of ['125%', '1a5%', '1a5', '1a5%:2/3', '125%:250%', '55%:50%', '-1:1', '1/2:1/2', '33.3%', '1/0']) {
    it(`"${bad}" is refused`, () => expect(() => seg(bad)).toThrow(ExecutionSegmentError));
  }
  it("refuses with k6's messages", () => {
    expect(() => seg('2/3:1/3')).toThrow('segment start(0.67) must be less than its end(0.33)');
    expect(() => seg('125%')).toThrow("segment end value can't be more than 1 but was 1.25");
    expect(() => seg('1a5')).toThrow("'1a5' is not a valid percentage, decimal, fraction or interval value");
    expect(() => seg('1a5%')).toThrow("'1a5%' is not a valid percentage");
  });
});

describe('TestExecutionSegmentSplit', () => {
  it('splits the whole and a quarter into equal parts', () => {
    expect(() => ExecutionSegment.full().split(0)).toThrow(ExecutionSegmentError);
    expect(ExecutionSegment.full().split(3).map(String)).toEqual(['0:1/3', '1/3:2/3', '2/3:1']);
    expect(seg('1/4:2/4').split(3).map(String)).toEqual(['1/4:1/3', '1/3:5/12', '5/12:1/2']);
    expect(seg('1/4:2/4').split(4).map(String)).toEqual(['1/4:5/16', '5/16:3/8', '3/8:7/16', '7/16:1/2']);
  });
});

describe('TestExecutionSegmentFailures (Scale)', () => {
  it('scales 2 and 3 by the quarters', () => {
    expect([seg('0:0.25').scale(2), seg('0:0.25').scale(3)]).toEqual([1, 1]);
    expect([seg('0.25:0.5').scale(2), seg('0.25:0.5').scale(3)]).toEqual([0, 1]);
    expect([seg('0.5:0.75').scale(2), seg('0.5:0.75').scale(3)]).toEqual([1, 0]);
    expect([seg('0.75:1').scale(2), seg('0.75:1').scale(3)]).toEqual([0, 1]);
  });
});

describe('TestExecutionTupleScale and TestBigScale', () => {
  it('scales by a half, with and without a sequence', () => {
    expect([ExecutionTuple.parse('0.5', undefined).scaleInt64(2), ExecutionTuple.parse('0.5', undefined).scaleInt64(3)]).toEqual([1, 2]);
    expect([ExecutionTuple.parse('0.5:1.0', undefined).scaleInt64(2), ExecutionTuple.parse('0.5:1.0', undefined).scaleInt64(3)]).toEqual([1, 1]);
    expect(ExecutionTuple.parse('0.5', '0,0.5,1').scaleInt64(3)).toBe(2);
    expect(ExecutionTuple.parse('0.5:1.0', '0,0.5,1').scaleInt64(3)).toBe(1);
  });
  it('0:7/20 of 50 in 0,7/20,7/10,1 is 18', () => {
    expect(ExecutionTuple.parse('0:7/20', '0,7/20,7/10,1').scaleInt64(50)).toBe(18);
  });
});

describe('TestExecutionSegmentSubSegment', () => {
  it('1/2:1 taken 0:1/2 is 1/2:3/4', () => expect(seg('1/2:1').subSegment(seg('0:1/2')).toString()).toBe('1/2:3/4'));
});

describe('TestExecutionSegmentStringSequences', () => {
  for (const bad of ['0.5', '1,1', '-0.5,1', '1/2,1/2', '1/2,1/3', '0,1,1/2']) {
    it(`"${bad}" is refused`, () => expect(() => seq(bad)).toThrow(ExecutionSegmentError));
  }
  const ok: Array<[string, string[], boolean]> = [
    ['', [], true], ['0.5,1', ['1/2:1'], false], ['1/2,1', ['1/2:1'], true], ['0,1/3,2/3', ['0:1/3', '1/3:2/3'], true],
    ['0,1/3,2/3,1', ['0:1/3', '1/3:2/3', '2/3:1'], true], ['0.5,0.7,1', ['1/2:7/10', '7/10:1'], false],
    ['0,1/13,2/13,1/3,1/2,3/4,1', ['0:1/13', '1/13:2/13', '2/13:1/3', '1/3:1/2', '1/2:3/4', '3/4:1'], true],
  ];
  for (const [input, segments, reverses] of ok) {
    it(`"${input}"`, () => {
      const s = seq(input);
      expect(s.segments.map(String)).toEqual(segments);
      if (reverses) expect(s.toString()).toBe(input);
    });
  }
  it("names the gap with k6's message", () => {
    expect(() => seq('0.5')).toThrow('at least 2 points are needed for an execution segment sequence, 1 given');
  });
});

describe('TestGetStripedOffsets', () => {
  const cases: Array<[string, string, number, number[], number]> = [
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0:0.3', 0, [4, 3, 3], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.3:0.5', 1, [4, 6], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.5:0.6', 2, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.8:0.9', 8, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0:0.2', 1, [4, 6], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
    ['0,0.2,0.5', '0:0.2', 3, [6, 4], 10],
    ['0,0.2,0.5', '0.2:0.5', 1, [4, 2, 4], 10],
    ['0,2/5,4/5', '0:2/5', 0, [3, 2], 5],
    ['0,2/5,4/5', '2/5:4/5', 1, [3, 2], 5],
    ['', '0:0.2', 1, [5], 5],
    ['', '0:1/5', 1, [5], 5],
    ['', '0:2/10', 1, [5], 5],
    ['', '0:0.4', 1, [2, 3], 5],
    ['', '0:2/5', 1, [2, 3], 5],
    ['', '2/5:4/5', 1, [3, 2], 5],
    ['', '0:4/10', 1, [2, 3], 5],
    ['', '1/10:5/10', 1, [2, 2, 4, 2], 10],
  ];
  for (const [sq, sg, start, offsets, lcd] of cases) {
    it(`seq "${sq}" segment ${sg}`, () => {
      expect(ExecutionTuple.parse(sg, sq).stripedOffsets()).toEqual({ start, offsets, lcd });
    });
  }
});

describe('TestSequenceLCD', () => {
  const cases: Array<[string, number]> = [
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', 10], ['0,0.1,0.5,0.6,0.7,0.8,0.9,1', 10], ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', 10], ['0,1/3,5/6', 6], ['0,1/3,4/7', 21],
  ];
  for (const [sq, lcd] of cases) it(sq, () => expect(seq(sq).lcd()).toBe(lcd));
});

describe('TestGetNewExecutionTupleBesedOnValue', () => {
  it('0:1/3 of 0,1/3,2/3,1 re-segmented by 20 is 0,7/20,7/10,1', () => {
    expect(ExecutionTuple.parse('0:1/3', '0,1/3,2/3,1').fromValue(20).wrapper.sequence.toString()).toBe('0,7/20,7/10,1');
  });
});

describe('TestNewExecutionTuple', () => {
  const full = { scale: { 50: 50, 1: 1, 0: 0 }, fromValue: { 50: { 50: 50, 1: 1, 0: 0 }, 1: { 50: 50, 1: 1, 0: 0 }, 0: null } };
  const cases: Array<{ seg?: string; seq?: string; scale: Record<number, number>; fromValue: Record<number, Record<number, number> | null> }> = [
    { ...full },
    { seg: '0:1', ...full },
    { seg: '0:1', seq: '0,1', ...full },
    { seg: '0:1', seq: '', ...full },
    {
      seg: '0:1/3', seq: '0,1/3,2/3,1', scale: { 50: 17, 3: 1, 2: 1, 1: 1, 0: 0 },
      fromValue: { 50: { 50: 17, 1: 1, 0: 0 }, 20: { 50: 18, 1: 1, 0: 0 }, 3: { 50: 17, 1: 1, 0: 0 }, 2: { 50: 25, 1: 1, 0: 0 }, 1: { 50: 50, 1: 1, 0: 0 }, 0: null },
    },
    {
      seg: '1/3:2/3', seq: '0,1/3,2/3,1', scale: { 50: 17, 3: 1, 2: 1, 1: 0, 0: 0 },
      fromValue: { 50: { 50: 17, 1: 0, 0: 0 }, 20: { 50: 17, 1: 0, 0: 0 }, 3: { 50: 17, 1: 0, 0: 0 }, 2: { 50: 25, 1: 0, 0: 0 }, 1: null, 0: null },
    },
    {
      seg: '2/3:1', seq: '0,1/3,2/3,1', scale: { 50: 16, 3: 1, 2: 0, 1: 0, 0: 0 },
      fromValue: { 50: { 50: 16, 1: 0, 0: 0 }, 20: { 50: 15, 1: 0, 0: 0 }, 3: { 50: 16, 1: 0, 0: 0 }, 2: null, 1: null, 0: null },
    },
  ];
  for (const c of cases) {
    it(`segment ${c.seg ?? '(none)'} in sequence "${c.seq ?? '(none)'}"`, () => {
      const t = ExecutionTuple.parse(c.seg, c.seq);
      for (const [v, want] of Object.entries(c.scale)) expect(t.scaleInt64(Number(v)), `scale ${v}`).toBe(want);
      for (const [v, inner] of Object.entries(c.fromValue)) {
        if (inner === null) {
          expect(() => t.fromValue(Number(v))).toThrow(ExecutionSegmentError);
          continue;
        }
        const nt = t.fromValue(Number(v));
        for (const [x, want] of Object.entries(inner)) expect(nt.scaleInt64(Number(x)), `fromValue(${v}) scale ${x}`).toBe(want);
      }
    });
  }
  it("a segment that is not in the sequence is k6's error", () => {
    expect(() => ExecutionTuple.parse('0:1/2', '0,1/3,2/3,1')).toThrow("couldn't find segment 0:1/2 in sequence 0,1/3,2/3,1");
  });
});

describe('the shares of a sequence add up to the whole (TestExecutionTupleScaleConsistency, seeded)', () => {
  it('for 40 seeded random sequences and values', () => {
    let x = 12345;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    for (let t = 0; t < 40; t++) {
      const parts = Array.from({ length: 2 + rnd(8) }, () => 1 + rnd(100));
      const total = parts.reduce((a, b) => a + b, 0);
      let acc = 0;
      const points = ['0', ...parts.map((p) => `${(acc += p)}/${total}`)];
      const sequence = points.join(',');
      const value = 2 + rnd(99);
      const shares = parts.map((_, i) => ExecutionTuple.parse(`${points[i]}:${points[i + 1]}`, sequence).scaleInt64(value));
      expect(shares.reduce((a, b) => a + b, 0), sequence).toBe(value);
      // No wobble: a segment's share never falls as the value grows.
      const t0 = ExecutionTuple.parse(`${points[0]}:${points[1]}`, sequence);
      let last = 0;
      for (let v = 1; v < 300; v++) {
        const s = t0.scaleInt64(v);
        expect(s).toBeGreaterThanOrEqual(last);
        last = s;
      }
    }
  });
});

describe('TestSegmentedIndex', () => {
  it('full', () => {
    const s = new SegmentedIndex({ start: 0, lcd: 1, offsets: [1] });
    expect([s.next(), s.prev(), s.next(), s.next(), s.next(), s.prev(), s.prev(), s.next()]).toEqual([[1, 1], [0, 0], [1, 1], [2, 2], [3, 3], [2, 2], [1, 1], [2, 2]]);
  });
  it('half', () => {
    const s = new SegmentedIndex({ start: 0, lcd: 2, offsets: [2] });
    expect([s.next(), s.prev(), s.next(), s.next(), s.next(), s.prev(), s.prev(), s.prev(), s.next()]).toEqual([[1, 1], [0, 0], [1, 1], [2, 3], [3, 5], [2, 3], [1, 1], [0, 0], [1, 1]]);
  });
  it('the other half', () => {
    const s = new SegmentedIndex({ start: 1, lcd: 2, offsets: [2] });
    expect([s.next(), s.prev(), s.next(), s.next(), s.next(), s.prev(), s.prev(), s.prev(), s.next()]).toEqual([[1, 2], [0, 0], [1, 2], [2, 4], [3, 6], [2, 4], [1, 2], [0, 0], [1, 2]]);
  });
  it('strange', () => {
    const s = new SegmentedIndex({ start: 1, lcd: 7, offsets: [4, 3] });
    expect([s.next(), s.prev(), s.next(), s.next(), s.next(), s.prev(), s.prev(), s.prev(), s.next()]).toEqual([[1, 2], [0, 0], [1, 2], [2, 6], [3, 9], [2, 6], [1, 2], [0, 0], [1, 2]]);
    expect([s.goTo(6), s.goTo(5), s.goTo(7), s.goTo(8), s.goTo(9), s.prev(), s.prev(), s.prev()]).toEqual([[2, 6], [1, 2], [2, 6], [2, 6], [3, 9], [2, 6], [1, 2], [0, 0]]);
  });
});
