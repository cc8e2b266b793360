/**
 * k6's execution segments (grafana/k6 v1.3.0 lib/execution_segment.go), ported line by line so a
 * runner given `--execution-segment 1/3:2/3` computes exactly the share real k6 would: which VUs,
 * which iterations, which arrivals. Each runner computes its own share from its segment and the
 * sequence alone; no coordinator is needed, and the shares of a sequence add up to the whole.
 *
 *   "0,1/3,2/3,1" ─> ExecutionSegmentSequence ─┐
 *   "1/3:2/3"     ─> ExecutionSegment ─────────┴─> filled (gaps padded to 0..1) ─> SequenceWrapper
 *                                                   (lcd, striped offsets per segment)
 *   ExecutionTuple = wrapper + index of our segment: scaleInt64(v) = our share of v;
 *   stripedOffsets() = which of the global indexes 0,1,2... are ours (start, then gaps, per lcd).
 *
 * The names and error texts are k6's, so a message reads the same as real k6's would.
 */
import { parseRat, Rat } from './rational.ts';

const ZERO = Rat.of(0);
const ONE = Rat.of(1);

/** A bad segment or sequence string; the message is k6's. */
export class ExecutionSegmentError extends Error {
  override readonly name = 'ExecutionSegmentError';
}

/** k6's stringToRat: "25%" (whole percentages only, as k6's big.Int parse), "0.25", "1/4". */
export function stringToRat(s: string): Rat {
  if (s.endsWith('%')) {
    const digits = s.slice(0, -1);
    if (!/^[+-]?\d+$/.test(digits)) throw new ExecutionSegmentError(`'${s}' is not a valid percentage`);
    return Rat.of(BigInt(digits), 100n);
  }
  const r = parseRat(s);
  if (!r) throw new ExecutionSegmentError(`'${s}' is not a valid percentage, decimal, fraction or interval value`);
  return r;
}

/** A (from, to] share of the whole test, 0 <= from < to <= 1. */
export class ExecutionSegment {
  readonly length: Rat;

  private constructor(
    readonly from: Rat,
    readonly to: Rat,
  ) {
    this.length = to.sub(from);
  }

  /** NewExecutionSegment: validated. */
  static create(from: Rat, to: Rat): ExecutionSegment {
    if (from.cmp(ZERO) < 0) throw new ExecutionSegmentError(`segment start value must be at least 0 but was ${from.floatString(2)}`);
    if (from.cmp(to) >= 0) throw new ExecutionSegmentError(`segment start(${from.floatString(2)}) must be less than its end(${to.floatString(2)})`);
    if (to.cmp(ONE) > 0) throw new ExecutionSegmentError(`segment end value can't be more than 1 but was ${to.floatString(2)}`);
    return new ExecutionSegment(from, to);
  }

  /** newExecutionSegment: unvalidated, for pieces computed from valid ones. */
  static unchecked(from: Rat, to: Rat): ExecutionSegment {
    return new ExecutionSegment(from, to);
  }

  static full(): ExecutionSegment {
    return new ExecutionSegment(ZERO, ONE);
  }

  /**
   * NewExecutionSegmentFromString: "a:b" is (a, b]; a single value v is (0, v]; "" is (0, 1].
   * Each side may be a percentage, a decimal or a fraction ("2/4:75%").
   */
  static parse(text: string): ExecutionSegment {
    let toStr = text === '' ? '1' : text;
    let from = ZERO;
    const colon = toStr.indexOf(':');
    if (colon >= 0) {
      from = stringToRat(toStr.slice(0, colon));
      toStr = toStr.slice(colon + 1);
    }
    return ExecutionSegment.create(from, stringToRat(toStr));
  }

  isFull(): boolean {
    return this.length.cmp(ONE) === 0;
  }

  toString(): string {
    return `${this.from}:${this.to}`;
  }

  equals(o: ExecutionSegment): boolean {
    return this.from.cmp(o.from) === 0 && this.to.cmp(o.to) === 0;
  }

  /** Split: `numParts` equal consecutive sub-segments. */
  split(numParts: number): ExecutionSegment[] {
    if (!Number.isInteger(numParts) || numParts < 1) throw new ExecutionSegmentError(`the number of parts must be at least 1, ${numParts} received`);
    const increment = new Rat(this.length.num, this.length.den * BigInt(numParts));
    const out: ExecutionSegment[] = [];
    let from = this.from;
    for (let i = 0; i < numParts; i++) {
      const to = from.add(increment);
      out.push(ExecutionSegment.create(from, to));
      from = to;
    }
    return out;
  }

  /** SubSegment: `child` taken inside this one ((1/2:1).subSegment(0:1/2) is 1/2:3/4). */
  subSegment(child: ExecutionSegment): ExecutionSegment {
    const from = this.from.add(this.length.mul(child.from));
    return new ExecutionSegment(from, from.add(this.length.mul(child.length)));
  }

  /** Scale: round(value*to - round(value*from)), k6's stand-alone (unstable) scaling. */
  scale(value: number): number {
    const v = Rat.of(value);
    const toValue = v.mul(this.to);
    const fromValue = v.mul(this.from);
    return Number(roundUp(toValue.sub(Rat.of(roundUp(fromValue)))));
  }

  /** InPlaceScaleRat / CopyScaleRat: value * length. */
  scaleRat(value: Rat): Rat {
    return value.mul(this.length);
  }
}

/** roundUp: half-up rounding of a non-negative rational to an integer. */
function roundUp(r: Rat): bigint {
  const quo = r.num / r.den;
  const rem = r.num % r.den;
  return rem * 2n >= r.den ? quo + 1n : quo;
}

/** Consecutive segments, each starting where the previous ends: "r1,r2,...,rn". */
export class ExecutionSegmentSequence {
  private constructor(readonly segments: readonly ExecutionSegment[]) {}

  /** NewExecutionSegmentSequence: no gaps, no overlaps. */
  static of(segments: readonly ExecutionSegment[]): ExecutionSegmentSequence {
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.from.cmp(segments[i - 1]!.to) !== 0) {
        throw new ExecutionSegmentError(
          `the start value ${segments[i]!.from} of segment #${i} must be equal to the end value of the previous one, but it is ${segments[i - 1]!.to}`,
        );
      }
    }
    return new ExecutionSegmentSequence([...segments]);
  }

  /** NewExecutionSegmentSequenceFromString: "" is the empty sequence (a single 0:1 segment). */
  static parse(text: string): ExecutionSegmentSequence {
    if (text.length === 0) return new ExecutionSegmentSequence([]);
    const points = text.split(',');
    if (points.length < 2) throw new ExecutionSegmentError(`at least 2 points are needed for an execution segment sequence, ${points.length} given`);
    const segments: ExecutionSegment[] = [];
    let start = stringToRat(points[0]!);
    for (const p of points.slice(1)) {
      const r = stringToRat(p);
      segments.push(ExecutionSegment.create(start, r));
      start = r;
    }
    return ExecutionSegmentSequence.of(segments);
  }

  get length(): number {
    return this.segments.length;
  }

  toString(): string {
    if (this.segments.length === 0) return '';
    return [this.segments[0]!.from, ...this.segments.map((s) => s.to)].map(String).join(',');
  }

  /** LCD: least common multiple of the segments' lengths' denominators. */
  lcd(): number {
    let acc = Number(this.segments[0]!.length.den);
    for (const seg of this.segments.slice(1)) {
      const n = Number(seg.length.den);
      if (acc === n || acc % n === 0) continue;
      acc *= n / gcdInt(acc, n);
    }
    return acc;
  }

  isFull(): boolean {
    return this.segments.length !== 0 && this.segments[0]!.from.cmp(ZERO) === 0 && this.segments[this.segments.length - 1]!.to.cmp(ONE) === 0;
  }

  /** FindSegmentPosition: the index of `segment` (first by start), or k6's error. */
  findSegmentPosition(segment: ExecutionSegment): number {
    const index = this.segments.findIndex((s) => s.from.cmp(segment.from) >= 0);
    if (index < 0 || !this.segments[index]!.equals(segment)) {
      throw new ExecutionSegmentError(`couldn't find segment ${segment} in sequence ${this}`);
    }
    return index;
  }

  /**
   * GetFilledExecutionSegmentSequence: pads the sequence (or, with none, the segment alone) with
   * the missing pieces at either end, so it spans 0..1.
   */
  static filled(sequence: ExecutionSegmentSequence | undefined, fallback: ExecutionSegment | undefined): ExecutionSegmentSequence {
    let result: ExecutionSegment[];
    if (!sequence || sequence.length === 0) {
      if (!fallback || fallback.isFull()) return new ExecutionSegmentSequence([ExecutionSegment.full()]);
      result = [fallback];
    } else result = [...sequence.segments];
    if (result[0]!.from.cmp(ZERO) !== 0) result.unshift(ExecutionSegment.unchecked(ZERO, result[0]!.from));
    if (result[result.length - 1]!.to.cmp(ONE) !== 0) result.push(ExecutionSegment.unchecked(result[result.length - 1]!.to, ONE));
    return new ExecutionSegmentSequence(result);
  }
}

/** k6's gcd by subtraction (inputs are positive). */
function gcdInt(a: number, b: number): number {
  while (a !== b) {
    if (a > b) a -= b;
    else b -= a;
  }
  return a;
}

/**
 * ExecutionSegmentSequenceWrapper: a full sequence with its lcd and, per segment, the striped
 * offsets: offsets[i] = [start, gap1, gap2, ..., gapN] where N is the segment's share of every lcd
 * consecutive indexes and the gaps of one cycle sum to lcd.
 */
export class SequenceWrapper {
  readonly lcd: number;
  private readonly offsets: number[][];

  constructor(readonly sequence: ExecutionSegmentSequence) {
    if (!sequence.isFull()) throw new Error(`Cannot wrap around a non-full execution segment sequence '${sequence}'`);
    const segs = sequence.segments;
    const lcd = sequence.lcd();
    this.lcd = lcd;
    const offsets: number[][] = segs.map(() => []);
    // Biggest segments choose first (a stable sort, as Go's sort.SliceStable): they need the most
    // indexes and have the hardest time avoiding consecutive ones.
    const sorted = segs
      .map((s, originalIndex) => ({ normNumerator: Number(s.length.num) * (lcd / Number(s.length.den)), originalIndex }))
      .sort((a, b) => b.normNumerator - a.normNumerator);
    const prev = new Array<number>(segs.length).fill(0);
    const chosenCounts = new Array<number>(segs.length).fill(0);
    const saveIndex = (iteration: number, index: number, numerator: number) => {
      const o = offsets[index]!;
      o.push(iteration - prev[index]!);
      prev[index] = iteration;
      if (o.length === numerator) o.push(o[0]! + lcd - iteration);
    };
    for (let i = 0; i < lcd; i++) {
      for (let si = 0; si < chosenCounts.length; si++) {
        const num = chosenCounts[si]! * lcd;
        const denom = sorted[si]!.normNumerator;
        const q = Math.floor(num / denom);
        if (i > q || (i === q && num % denom === 0)) {
          chosenCounts[si]!++;
          saveIndex(i, sorted[si]!.originalIndex, denom);
          break;
        }
      }
    }
    this.offsets = offsets;
  }

  /** ScaleInt64: segment `index`'s share of `value`; the shares of all segments sum to `value`. */
  scaleInt64(index: number, value: number): number {
    const [start, ...gaps] = this.offsets[index]!;
    let result = Math.floor(value / this.lcd) * gaps.length;
    const rest = value % this.lcd;
    for (let gi = 0, i = start!; i < rest; i += gaps[gi]!, gi++) result++;
    return result;
  }

  /** GetStripedOffsets: [start, gaps, lcd]. */
  stripedOffsets(index: number): { start: number; offsets: number[]; lcd: number } {
    const [start, ...gaps] = this.offsets[index]!;
    return { start: start!, offsets: gaps, lcd: this.lcd };
  }

  /**
   * GetNewExecutionSegmentSequenceFromValue: re-segments the sequence so each segment's length is
   * exactly its share of `value` over `value` (segments with no share dropped). k6 does this with
   * an executor's VUs before splitting its iterations, so iterations follow the VUs that run them.
   */
  fromValue(value: number, trackedIndex: number): { wrapper: SequenceWrapper; index: number } {
    if (value < 1) throw new ExecutionSegmentError(`cannot generate new sequence for value ${value}`);
    if (value % this.lcd === 0) return { wrapper: this, index: trackedIndex };
    let newIndex = -1;
    const segs: ExecutionSegment[] = [];
    let prev = 0;
    for (let i = 0; i < this.sequence.length; i++) {
      const v = this.scaleInt64(i, value);
      if (v === 0) continue;
      if (i === trackedIndex) newIndex = segs.length;
      segs.push(ExecutionSegment.unchecked(Rat.of(prev, value), Rat.of(prev + v, value)));
      prev += v;
    }
    if (newIndex === -1) throw new ExecutionSegmentError(`segment ${trackedIndex} (${this.sequence.segments[trackedIndex]}) isn't present in the new sequence`);
    return { wrapper: new SequenceWrapper(ExecutionSegmentSequence.of(segs)), index: newIndex };
  }
}

/** ExecutionTuple: a runner's segment and where it sits in the (filled) sequence. */
export class ExecutionTuple {
  constructor(
    readonly wrapper: SequenceWrapper,
    readonly index: number,
  ) {}

  get segment(): ExecutionSegment {
    return this.wrapper.sequence.segments[this.index]!;
  }

  /** NewExecutionTuple: k6's checks included (the segment must be one of the sequence's). */
  static of(segment?: ExecutionSegment, sequence?: ExecutionSegmentSequence): ExecutionTuple {
    const wrapper = new SequenceWrapper(ExecutionSegmentSequence.filled(sequence, segment));
    return new ExecutionTuple(wrapper, wrapper.sequence.findSegmentPosition(segment ?? ExecutionSegment.full()));
  }

  static full(): ExecutionTuple {
    return ExecutionTuple.of();
  }

  /** The flags' strings as k6 reads them ("" or undefined: not given). */
  static parse(segment: string | undefined, sequence: string | undefined): ExecutionTuple {
    const seg = segment === undefined ? undefined : ExecutionSegment.parse(segment);
    const seq = sequence === undefined ? undefined : ExecutionSegmentSequence.parse(sequence);
    return ExecutionTuple.of(seg, seq);
  }

  isFull(): boolean {
    return this.wrapper.sequence.length === 1;
  }

  scaleInt64(value: number): number {
    return this.isFull() ? value : this.wrapper.scaleInt64(this.index, value);
  }

  stripedOffsets(): { start: number; offsets: number[]; lcd: number } {
    return this.wrapper.stripedOffsets(this.index);
  }

  /** GetNewExecutionTupleFromValue; throws when this segment gets none of `value`. */
  fromValue(value: number): ExecutionTuple {
    const { wrapper, index } = this.wrapper.fromValue(value, this.index);
    return new ExecutionTuple(wrapper, index);
  }

  toString(): string {
    return `${this.segment} in ${this.wrapper.sequence}`;
  }
}

/**
 * SegmentedIndex: walks this segment's indexes. `scaled` counts ours (1-based), `unscaled` is the
 * matching global index (1-based); 0, 0 before the first.
 */
export class SegmentedIndex {
  scaled = 0;
  unscaled = 0;
  private readonly start: number;
  private readonly offsets: number[];
  private readonly lcd: number;

  constructor(striped: { start: number; offsets: number[]; lcd: number }) {
    this.start = striped.start;
    this.offsets = striped.offsets;
    this.lcd = striped.lcd;
  }

  static of(tuple: ExecutionTuple): SegmentedIndex {
    return new SegmentedIndex(tuple.stripedOffsets());
  }

  next(): [number, number] {
    if (this.scaled === 0) this.unscaled += this.start + 1;
    else this.unscaled += this.offsets[(this.scaled - 1) % this.offsets.length]!;
    this.scaled++;
    return [this.scaled, this.unscaled];
  }

  prev(): [number, number] {
    if (this.scaled === 1) this.unscaled -= this.start + 1;
    else this.unscaled -= this.offsets[(this.scaled - 2) % this.offsets.length]!;
    this.scaled--;
    return [this.scaled, this.unscaled];
  }

  /** GoTo: the largest scaled index whose unscaled index is <= value. */
  goTo(value: number): [number, number] {
    let gi = 0;
    const wholeCycles = Math.floor(value / this.lcd);
    this.scaled = wholeCycles * this.offsets.length;
    this.unscaled = wholeCycles * this.lcd + this.start + 1;
    for (let i = this.start; i < value % this.lcd; i += this.offsets[gi]!, gi++) {
      this.scaled++;
      this.unscaled += this.offsets[gi]!;
    }
    if (gi > 0) this.unscaled -= this.offsets[gi - 1]!;
    else if (this.scaled > 0) this.unscaled -= this.offsets[this.offsets.length - 1]!;
    if (this.scaled === 0) this.unscaled = 0;
    return [this.scaled, this.unscaled];
  }
}
