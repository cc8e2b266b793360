/**
 * A Clock (src/base/clock.ts) whose time moves only when the test says so, for code that takes one:
 * topology's wait strategies, the chaos plan runner, the engine's schedule. It keeps the real
 * clock's abort rule: a sleep rejects with `signal.reason` when its signal aborts.
 *
 * - manual (default): sleeps wait until `advance(ms)` or `runUntilIdle()` moves time past their end;
 * - autoAdvance: every sleep moves time to its own end on the next tick (unless aborted before),
 *   so a 20 s timeout costs nothing.
 *
 * A woken sleep resolves on a later macrotask (setImmediate), so what it ran — and the microtasks
 * of code it unblocked — has settled before the next one wakes, as with real timers.
 */
import type { Clock } from '../../src/base/clock.ts';

export interface FakeClock extends Clock {
  /** Sum of every `ms` asked of sleep(). */
  readonly slept: number;
  /** Sleeps not yet woken (manual mode). */
  readonly pending: number;
  /** Moves time forward by `ms`, waking each sleep due by then in order of its end. */
  advance(ms: number): Promise<void>;
  /** Wakes sleeps in order until none is left, or until `limit` have woken (a loop that sleeps forever). */
  runUntilIdle(limit?: number): Promise<void>;
}

interface Sleeper {
  atMs: number;
  seq: number;
  wake(): void;
}

const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

export function fakeClock(opts: { startMs?: number; autoAdvance?: boolean } = {}): FakeClock {
  let now = opts.startMs ?? 1_000_000;
  let slept = 0;
  let seq = 0;
  const sleepers: Sleeper[] = [];

  const wakeNext = async (untilMs: number): Promise<boolean> => {
    let i = -1;
    for (let j = 0; j < sleepers.length; j++) {
      const s = sleepers[j]!;
      if (s.atMs <= untilMs && (i < 0 || s.atMs < sleepers[i]!.atMs || (s.atMs === sleepers[i]!.atMs && s.seq < sleepers[i]!.seq))) i = j;
    }
    if (i < 0) return false;
    const [s] = sleepers.splice(i, 1);
    now = Math.max(now, s!.atMs);
    s!.wake();
    await macrotask();
    return true;
  };

  return {
    now: () => now,
    get slept() {
      return slept;
    },
    get pending() {
      return sleepers.length;
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        slept += Math.max(0, ms);
        const atMs = now + Math.max(0, ms);
        if (opts.autoAdvance) {
          const onAbort = () => reject(signal?.reason);
          signal?.addEventListener('abort', onAbort, { once: true });
          setImmediate(() => {
            signal?.removeEventListener('abort', onAbort);
            if (signal?.aborted) return; // rejected already; time does not move for it
            now = Math.max(now, atMs);
            resolve();
          });
          return;
        }
        const onAbort = () => {
          const i = sleepers.indexOf(me);
          if (i >= 0) sleepers.splice(i, 1);
          reject(signal?.reason);
        };
        const me: Sleeper = {
          atMs,
          seq: seq++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.push(me);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      const target = now + ms;
      while (await wakeNext(target));
      now = Math.max(now, target);
      await macrotask();
    },
    async runUntilIdle(limit = 10_000) {
      for (let n = 0; n < limit && (await wakeNext(Infinity)); n++);
    },
  };
}
