/**
 * The timed toxics (latency, bandwidth, slicer) through their `pipe` stage on a fake clock: when
 * each byte leaves, exactly. The tests on real Redis traffic (toxics.test.ts) can only check lower
 * bounds, which a busy machine cannot break; the upper side (a toxic adds no more than it should)
 * is checked here, and the real-run figures are in `npm run bench toxics`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toxicDefinition, type Stage, type ToxicStub } from '../../chaos/toxics/index.ts';
import { seededRandom } from '../../src/base/random.ts';

interface Out {
  /** Fake ms since the stage was made. */
  atMs: number;
  data: string;
}

/** One stage of `type` with a stub that records what it forwards and when. */
function stage(type: string, attributes: Record<string, number>) {
  const definition = toxicDefinition(type);
  if (!definition) throw new Error(`no toxic ${type}`);
  const t0 = Date.now();
  const out: Out[] = [];
  let closedAtMs: number | undefined;
  const stub: ToxicStub = {
    push: (chunk) => out.push({ atMs: Date.now() - t0, data: chunk.toString() }),
    close: () => (closedAtMs ??= Date.now() - t0),
    reset: () => {
      throw new Error('unexpected reset');
    },
    discard: (bytes) => {
      throw new Error(`unexpected discard of ${bytes} bytes`);
    },
    after: (ms, fn) => {
      const timer = setTimeout(fn, Math.max(0, ms));
      return () => clearTimeout(timer);
    },
    state: definition.newState?.(),
    random: seededRandom(7),
  };
  const s: Stage = definition.pipe({ ...attributes }, stub);
  return { s, out, closedAtMs: () => closedAtMs, text: () => out.map((o) => o.data).join('') };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('latency', () => {
  it('holds each chunk exactly `latency` ms, in order, and closes after the last', async () => {
    const { s, out, closedAtMs } = stage('latency', { latency: 200, jitter: 0 });
    s.data(Buffer.from('a'));
    await vi.advanceTimersByTimeAsync(50);
    s.data(Buffer.from('b'));
    s.end();
    await vi.advanceTimersByTimeAsync(149);
    expect(out).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toEqual([{ atMs: 200, data: 'a' }]);
    await vi.advanceTimersByTimeAsync(50);
    expect(out).toEqual([{ atMs: 200, data: 'a' }, { atMs: 250, data: 'b' }]);
    expect(closedAtMs()).toBe(250);
  });

  it('with jitter, delays each chunk by latency ± jitter and never reorders', async () => {
    const { s, out, text } = stage('latency', { latency: 100, jitter: 40 });
    const sentAt: number[] = [];
    for (let i = 0; i < 50; i++) {
      sentAt.push(i * 3);
      s.data(Buffer.from(String.fromCharCode(65 + (i % 26))));
      await vi.advanceTimersByTimeAsync(3);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    expect(text()).toBe(Array.from({ length: 50 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));
    out.forEach((o, i) => {
      // At least latency - jitter, and at most latency + jitter: a chunk that waits for the one
      // before it waits for one sent earlier, which left by then.
      expect(o.atMs - sentAt[i]!).toBeGreaterThanOrEqual(60);
      expect(o.atMs - sentAt[i]!).toBeLessThanOrEqual(140);
      if (i > 0) expect(o.atMs).toBeGreaterThanOrEqual(out[i - 1]!.atMs);
    });
    // Jitter varies the delays (a jitter that did nothing would give 100 every time).
    expect(new Set(out.map((o, i) => o.atMs - sentAt[i]!)).size).toBeGreaterThan(5);
  });

  it('interrupted (the toxic removed), forwards everything it holds at once, in order', async () => {
    const { s, out } = stage('latency', { latency: 600_000, jitter: 0 });
    s.data(Buffer.from('x'));
    s.data(Buffer.from('y'));
    await vi.advanceTimersByTimeAsync(10);
    expect(out).toEqual([]);
    s.interrupt();
    expect(out).toEqual([{ atMs: 10, data: 'x' }, { atMs: 10, data: 'y' }]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('bandwidth', () => {
  it('forwards `rate` KB/s: 150 010 bytes at 100 KB/s in 100 ms pieces, the last at 1500.1 ms', async () => {
    const { s, out, text, closedAtMs } = stage('bandwidth', { rate: 100 });
    const body = 'z'.repeat(150_010);
    // Arrives as a few large chunks, as a socket delivers a big reply.
    for (let i = 0; i < body.length; i += 65_536) s.data(Buffer.from(body.slice(i, i + 65_536)));
    s.end();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(text()).toBe(body);
    let sent = 0;
    for (const o of out) {
      sent += o.data.length;
      // Never ahead of the cap (100 bytes/ms; a timer fires on a whole ms, up to 1 ms early) ...
      expect(sent).toBeLessThanOrEqual(100 * (o.atMs + 1));
      expect(o.data.length).toBeLessThanOrEqual(10_000);
    }
    // ... and never behind it: the virtual clock carries the timers' whole-ms rounding forward.
    expect(out.at(-1)!.atMs).toBeGreaterThanOrEqual(1_500);
    expect(out.at(-1)!.atMs).toBeLessThanOrEqual(1_502);
    expect(closedAtMs()).toBe(out.at(-1)!.atMs);
  });

  it('interrupted, forwards what it holds at once', async () => {
    const { s, out, text } = stage('bandwidth', { rate: 1 });
    s.data(Buffer.from('q'.repeat(1_000)));
    await vi.advanceTimersByTimeAsync(200);
    const before = out.length;
    s.interrupt();
    expect(out.length).toBeGreaterThan(before);
    expect(text()).toBe('q'.repeat(1_000));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('slicer', () => {
  it('sends the pieces `delay` µs apart, and interrupted, the rest at once', async () => {
    const { s, out, text } = stage('slicer', { average_size: 10, size_variation: 0, delay: 5_000 });
    s.data(Buffer.from('s'.repeat(200)));
    expect(out).toHaveLength(1); // the first piece goes at once
    await vi.advanceTimersByTimeAsync(20);
    expect(out.map((o) => o.atMs)).toEqual([0, 5, 10, 15, 20]);
    expect(out.every((o) => o.data.length <= 20)).toBe(true);
    s.interrupt();
    expect(text()).toBe('s'.repeat(200));
    expect(vi.getTimerCount()).toBe(0);
  });
});
