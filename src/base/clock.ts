/**
 * Time as a dependency, so retry, readiness and scheduling loops can be driven by a fake clock in
 * tests (the testcontainers model: a wait strategy never calls Date.now or setTimeout itself).
 * Topology's wait strategies, the chaos plan runner and the engine's executors all take one.
 *
 * The abort rule, the same for every clock: `sleep` REJECTS with `signal.reason` when the signal
 * aborts first (or had already aborted), so an aborted wait cannot be mistaken for time that
 * passed. A caller that only wants to stop waiting and then look at the signal itself uses
 * `sleepUnlessAborted`, which resolves `false` instead.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (may be fractional). */
  now(): number;
  /** Resolves after `ms` (`ms` <= 0: on the next timer tick); rejects with `signal.reason` on abort. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wall-clock time (Date.now) and real timers. */
export const systemClock: Clock = { now: () => Date.now(), sleep };

const TIME_ORIGIN_MS = performance.timeOrigin; // a getter: read once, not per call
/** Epoch ms, fractional, and monotonic within the process: it never jumps when the system clock is set. */
export const monotonicNowMs = (): number => TIME_ORIGIN_MS + performance.now();
/** monotonicNowMs() for a performance.now() reading already taken. */
export const epochMsAt = (perfNow: number): number => TIME_ORIGIN_MS + perfNow;

/** The engine's axis (history entries and the schedule): monotonic epoch ms and real timers. */
export const monotonicClock: Clock = { now: monotonicNowMs, sleep };

/**
 * `clock.sleep` for loops that stop on abort rather than fail: true when the time passed, false
 * when `signal` aborted first. Anything else the clock rejects with still rejects.
 */
export function sleepUnlessAborted(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal === undefined) return clock.sleep(ms).then(() => true);
  if (signal.aborted) return Promise.resolve(false);
  return clock.sleep(ms, signal).then(
    () => true,
    (e: unknown) => {
      if (signal.aborted) return false;
      throw e;
    },
  );
}
