/** The one abort rule of every Clock: sleep rejects with the signal's reason; sleepUnlessAborted resolves false. */
import { describe, expect, it } from 'vitest';
import { monotonicClock, sleepUnlessAborted, systemClock, type Clock } from '../../src/base/clock.ts';
import { fakeClock } from '../helpers/fake-clock.ts';

const clocks: Array<[string, () => Clock]> = [
  ['systemClock', () => systemClock],
  ['monotonicClock', () => monotonicClock],
  ['fakeClock', () => fakeClock()],
];

describe.each(clocks)('%s', (_name, make) => {
  it('sleep rejects with the reason when the signal aborts, and at once when it already has', async () => {
    const clock = make();
    const c = new AbortController();
    const sleeping = clock.sleep(60_000, c.signal);
    c.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    await expect(clock.sleep(0, c.signal)).rejects.toThrow('stop');
  });

  it('sleepUnlessAborted resolves false on abort instead of rejecting', async () => {
    const clock = make();
    const c = new AbortController();
    const sleeping = sleepUnlessAborted(clock, 60_000, c.signal);
    c.abort();
    await expect(sleeping).resolves.toBe(false);
    await expect(sleepUnlessAborted(clock, 0, c.signal)).resolves.toBe(false);
  });
});

describe('sleepUnlessAborted', () => {
  it('resolves true when the time passes, and passes on a rejection that is not the abort', async () => {
    const clock = fakeClock();
    const done = sleepUnlessAborted(clock, 5_000, new AbortController().signal);
    await clock.advance(5_000);
    await expect(done).resolves.toBe(true);
    const broken: Clock = { now: () => 0, sleep: () => Promise.reject(new Error('clock broke')) };
    await expect(sleepUnlessAborted(broken, 1, new AbortController().signal)).rejects.toThrow('clock broke');
  });

  it('monotonicClock reads epoch milliseconds', () => {
    expect(Math.abs(monotonicClock.now() - Date.now())).toBeLessThan(60_000);
  });
});
