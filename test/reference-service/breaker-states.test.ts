/**
 * The store guard's circuit breaker, walked through its states on fake timers (as cockatiel's own
 * tests do): no Redis, no real waiting. breaker.test.ts proves the same against a SIGSTOPped
 * redis-server end to end.
 */
import { isBrokenCircuitError } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStoreGuard, StoreTimeoutError, type BreakerState } from '../../reference-service/safeguards/breaker.ts';

const BUDGET_MS = 100;
const FAILURES = 3;
const HALF_OPEN_AFTER_MS = 1_000;

beforeEach(() => {
  vi.useFakeTimers(); // cockatiel reads Date.now() for the half-open delay: faked too
});
afterEach(() => {
  vi.useRealTimers();
});

function guarded() {
  const changes: BreakerState[] = [];
  const guard = createStoreGuard(true, { timeoutMs: BUDGET_MS, failures: FAILURES, halfOpenAfterMs: HALF_OPEN_AFTER_MS, onStateChange: (s) => changes.push(s) });
  return { guard, changes };
}

const fail = () => Promise.reject(new Error('connection refused'));
const answer = () => Promise.resolve('OK');

/** Opens the breaker: two refused calls and one that outlives its budget. */
async function openIt(guard: ReturnType<typeof guarded>['guard']): Promise<void> {
  await expect(guard.run(fail)).rejects.toThrow('connection refused');
  await expect(guard.run(fail)).rejects.toThrow('connection refused');
  const hung = guard.run(() => new Promise<never>(() => {}));
  const settled = expect(hung).rejects.toBeInstanceOf(StoreTimeoutError);
  await vi.advanceTimersByTimeAsync(BUDGET_MS);
  await settled;
}

/** What a call answers while the breaker refuses it, and whether the store was called. */
async function refused(guard: ReturnType<typeof guarded>['guard']): Promise<{ refused: boolean; called: boolean }> {
  let called = false;
  const e = await guard
    .run(() => {
      called = true;
      return answer();
    })
    .then(() => undefined, (err: unknown) => err);
  return { refused: isBrokenCircuitError(e), called };
}

describe('store guard breaker', () => {
  it('closed -> open after consecutive failures (a blown budget counts) -> half-open -> closed on a good probe', async () => {
    const { guard, changes } = guarded();
    expect(guard.state()).toBe('closed');
    expect(await guard.run(answer)).toBe('OK');

    await openIt(guard);
    expect(guard.state()).toBe('open');
    expect(changes).toEqual(['open']);

    // Open: calls are refused at once, without reaching the store.
    expect(await refused(guard)).toEqual({ refused: true, called: false });
    await vi.advanceTimersByTimeAsync(HALF_OPEN_AFTER_MS - 1);
    expect(await refused(guard)).toEqual({ refused: true, called: false });

    // Past the delay, the next call is the probe; it succeeds and closes the breaker.
    await vi.advanceTimersByTimeAsync(1);
    let release!: (v: string) => void;
    const probe = guard.run(() => new Promise<string>((r) => (release = r)));
    expect(guard.state()).toBe('half-open');
    release('OK');
    expect(await probe).toBe('OK');
    expect(guard.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    expect(await guard.run(answer)).toBe('OK');
  });

  it('half-open -> open on a failed probe; callers during the probe wait for it, then are refused; the next probe can close it', async () => {
    const { guard, changes } = guarded();
    await openIt(guard);
    await vi.advanceTimersByTimeAsync(HALF_OPEN_AFTER_MS);

    let refuse!: (e: Error) => void;
    const probe = guard.run(() => new Promise<never>((_, reject) => (refuse = reject)));
    expect(guard.state()).toBe('half-open');
    const waiting = refused(guard);
    refuse(new Error('still down'));
    await expect(probe).rejects.toThrow('still down');
    expect(await waiting).toEqual({ refused: true, called: false });
    expect(guard.state()).toBe('open');
    expect(changes).toEqual(['open', 'half-open', 'open']);

    // Open again for a whole delay, counted from the failed probe.
    await vi.advanceTimersByTimeAsync(HALF_OPEN_AFTER_MS - 1);
    expect(await refused(guard)).toEqual({ refused: true, called: false });
    await vi.advanceTimersByTimeAsync(1);
    expect(await guard.run(answer)).toBe('OK');
    expect(guard.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('a success in between resets the count: failures must be consecutive', async () => {
    const { guard, changes } = guarded();
    for (let i = 0; i < 3; i++) {
      for (let f = 0; f < FAILURES - 1; f++) await expect(guard.run(fail)).rejects.toThrow();
      expect(await guard.run(answer)).toBe('OK');
    }
    expect(guard.state()).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('switched off: calls run bare, with no budget and no breaker', async () => {
    const guard = createStoreGuard(false, { timeoutMs: BUDGET_MS, failures: 1, halfOpenAfterMs: HALF_OPEN_AFTER_MS });
    for (let i = 0; i < 5; i++) await expect(guard.run(fail)).rejects.toThrow('connection refused');
    expect(guard.state()).toBe('closed');
    let slowDone = false;
    const slow = guard.run(() => new Promise<string>((r) => setTimeout(() => r('late'), BUDGET_MS * 50))).then((v) => ((slowDone = true), v));
    await vi.advanceTimersByTimeAsync(BUDGET_MS * 10);
    expect(slowDone).toBe(false); // no budget cut it short
    await vi.advanceTimersByTimeAsync(BUDGET_MS * 40);
    expect(await slow).toBe('late');
  });
});
