/**
 * The paced queue and the three toxics built on it, without sockets: a scripted stub records what
 * a stage forwards, and fake timers stand in for the clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pacedQueue, SEND_ALL, type Pacer } from '../../chaos/toxics/paced-queue.ts';
import { toxicDefinition, type Stage, type ToxicStub } from '../../chaos/toxics/index.ts';
import { seededRandom } from '../../src/base/random.ts';

function scriptedStub() {
  const pushed: Buffer[] = [];
  const events: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const stub: ToxicStub = {
    push(chunk) {
      pushed.push(Buffer.from(chunk));
      events.push(`push ${chunk.toString()}`);
    },
    close: () => void events.push('close'),
    reset: () => void events.push('reset'),
    discard: (bytes) => void events.push(`discard ${bytes}`),
    after(ms, fn) {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
      return () => {
        clearTimeout(t);
        timers.delete(t);
      };
    },
    state: undefined,
    random: seededRandom(1),
  };
  return { stub, pushed, events, pendingTimers: () => timers.size, sent: () => Buffer.concat(pushed).toString() };
}

/** Each chunk waits `ms` after it reaches the head, then goes whole. */
function everyChunkWaits(ms: number): Pacer {
  let waited = false;
  return {
    next() {
      if (waited) {
        waited = false;
        return SEND_ALL;
      }
      waited = true;
      return { waitMs: ms };
    },
  };
}

const chunks = ['alpha-', 'bravo-', 'charlie-', 'delta-', 'echo'];

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('paced queue', () => {
  it('an interrupt mid-queue forwards every accepted byte, in order, at once', () => {
    const s = scriptedStub();
    const stage = pacedQueue(s.stub, everyChunkWaits(100));
    for (const c of chunks) stage.data(Buffer.from(c));
    vi.advanceTimersByTime(100);
    expect(s.sent()).toBe('alpha-');
    stage.interrupt();
    expect(s.sent()).toBe(chunks.join(''));
    expect(s.pushed.map(String)).toEqual(chunks);
    expect(s.pendingTimers()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(s.pushed).toHaveLength(chunks.length);
    expect(s.events).not.toContain('close');
  });

  it('an interrupt with part of the head already sent forwards the rest of it, then the others', () => {
    const s = scriptedStub();
    let waited = false;
    const stage = pacedQueue(s.stub, {
      next() {
        waited = !waited;
        return waited ? { waitMs: 10 } : { sendBytes: 3 };
      },
    });
    stage.data(Buffer.from('abcdefgh'));
    stage.data(Buffer.from('ijk'));
    vi.advanceTimersByTime(20);
    expect(s.pushed.map(String)).toEqual(['abc', 'def']);
    stage.interrupt();
    expect(s.pushed.map(String)).toEqual(['abc', 'def', 'gh', 'ijk']);
  });

  it('joinOnInterrupt forwards what is held as one chunk', () => {
    const s = scriptedStub();
    const stage = pacedQueue(s.stub, { ...everyChunkWaits(100), joinOnInterrupt: true });
    for (const c of chunks) stage.data(Buffer.from(c));
    stage.interrupt();
    expect(s.pushed.map(String)).toEqual([chunks.join('')]);
    stage.interrupt();
    expect(s.pushed).toHaveLength(1);
  });

  it('holds the end until everything held is out, then closes once', () => {
    const s = scriptedStub();
    const stage = pacedQueue(s.stub, everyChunkWaits(100));
    stage.data(Buffer.from('one'));
    stage.data(Buffer.from('two'));
    stage.end();
    expect(s.events).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(s.events).toEqual(['push one']);
    vi.advanceTimersByTime(100);
    expect(s.events).toEqual(['push one', 'push two', 'close']);
  });

  it('closes at once on an end with nothing held', () => {
    const s = scriptedStub();
    const stage = pacedQueue(s.stub, everyChunkWaits(100));
    stage.end();
    expect(s.events).toEqual(['close']);
  });

  it('counts the streak from the last wait, and from zero when the queue ran empty', () => {
    const s = scriptedStub();
    const streaks: number[] = [];
    const stage = pacedQueue(s.stub, {
      hold: (chunk, put) => {
        for (const piece of chunk.toString().split('')) put(Buffer.from(piece));
      },
      next(_head, _mark, streak) {
        streaks.push(streak);
        return streak >= 2 ? { waitMs: 5 } : SEND_ALL;
      },
    });
    stage.data(Buffer.from('abcd'));
    expect(s.sent()).toBe('ab');
    vi.advanceTimersByTime(5);
    expect(s.sent()).toBe('abcd');
    stage.data(Buffer.from('e'));
    expect(s.sent()).toBe('abcde');
    expect(streaks).toEqual([0, 1, 2, 0, 1, 0]);
  });

  it('hands each piece back with the mark it was held with', () => {
    const s = scriptedStub();
    const marks: number[] = [];
    const stage = pacedQueue(s.stub, {
      hold: (chunk, put) => put(chunk, chunk.length * 10),
      next(_head, mark) {
        marks.push(mark);
        return SEND_ALL;
      },
    });
    stage.data(Buffer.from('xy'));
    stage.data(Buffer.from('xyz'));
    expect(marks).toEqual([20, 30]);
  });
});

describe('the toxics on the paced queue, interrupted mid-queue', () => {
  const pipe = (type: string, attributes: Record<string, number>, stub: ToxicStub): Stage => toxicDefinition(type)!.pipe(attributes, stub);

  it('latency: what has come due has gone; the rest goes on interrupt, in order', () => {
    const s = scriptedStub();
    const stage = pipe('latency', { latency: 100, jitter: 0 }, s.stub);
    stage.data(Buffer.from('first-'));
    vi.advanceTimersByTime(40);
    stage.data(Buffer.from('second-'));
    vi.advanceTimersByTime(40);
    stage.data(Buffer.from('third'));
    vi.advanceTimersByTime(30);
    expect(s.pushed.map(String)).toEqual(['first-']);
    stage.interrupt();
    expect(s.pushed.map(String)).toEqual(['first-', 'second-', 'third']);
    expect(s.pendingTimers()).toBe(0);
  });

  it('latency with jitter keeps the order: a chunk waits for the one before it', () => {
    const s = scriptedStub();
    const stage = pipe('latency', { latency: 50, jitter: 40 }, s.stub);
    const sent = Array.from({ length: 20 }, (_, k) => `c${k};`);
    for (const c of sent) stage.data(Buffer.from(c));
    stage.end();
    vi.advanceTimersByTime(100);
    expect(s.pushed.map(String)).toEqual(sent);
    expect(s.events.at(-1)).toBe('close');
  });

  it('bandwidth: the rest of a half-sent chunk and the chunks behind it go on interrupt', () => {
    const s = scriptedStub();
    const stage = pipe('bandwidth', { rate: 1 }, s.stub); // 1 byte/ms, 100-byte pieces
    const big = Buffer.alloc(250, 'a');
    const small = Buffer.alloc(50, 'b');
    stage.data(big);
    stage.data(small);
    vi.advanceTimersByTime(150);
    expect(s.pushed.map((b) => b.length)).toEqual([100]);
    stage.interrupt();
    expect(s.pushed.map((b) => b.length)).toEqual([100, 150, 50]);
    expect(Buffer.concat(s.pushed)).toEqual(Buffer.concat([big, small]));
    expect(s.pendingTimers()).toBe(0);
  });

  it('bandwidth: pieces of 100 ms worth of bytes, one per 100 ms', () => {
    const s = scriptedStub();
    const stage = pipe('bandwidth', { rate: 2 }, s.stub);
    stage.data(Buffer.alloc(500, 'x'));
    stage.end();
    const lengths: number[] = [];
    for (let k = 0; k < 3; k++) {
      vi.advanceTimersByTime(100);
      lengths.push(Buffer.concat(s.pushed).length);
    }
    expect(lengths).toEqual([200, 400, 500]);
    expect(s.events.at(-1)).toBe('close');
  });

  it('slicer: the first piece goes at once, the held pieces go as one chunk on interrupt', () => {
    const s = scriptedStub();
    const stage = pipe('slicer', { average_size: 10, size_variation: 0, delay: 5_000 }, s.stub);
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789';
    stage.data(Buffer.from(text));
    expect(s.pushed).toHaveLength(1);
    vi.advanceTimersByTime(5);
    expect(s.pushed).toHaveLength(2);
    for (const piece of s.pushed) expect(piece.length).toBeLessThanOrEqual(10);
    stage.interrupt();
    expect(s.pushed).toHaveLength(3);
    expect(s.sent()).toBe(text);
    expect(s.pendingTimers()).toBe(0);
  });
});
