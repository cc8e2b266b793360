/**
 * Safeguard 1: every store call runs under a timeout budget inside a circuit breaker (cockatiel's
 * consecutive-failure breaker).
 * Consecutive failures open it; after `halfOpenAfterMs` one probe is let through (half-open).
 * Callers turn a rejection into a degraded read or a 503 write. With the safeguard off, store calls
 * run bare: no timeout, no breaker, and their errors surface as 500s.
 */
import { circuitBreaker, ConsecutiveBreaker, handleAll, CircuitState } from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface StoreGuard {
  readonly enabled: boolean;
  /** Runs one store call under the budget and breaker (or bare when disabled). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  dispose(): void;
}

export interface BreakerOptions {
  /** Budget for one store call, ms. */
  timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  failures: number;
  /** Open → half-open after this long, ms. */
  halfOpenAfterMs: number;
  /** Called on every state change (for the gauge and the lifecycle counter). */
  onStateChange?: (state: BreakerState) => void;
}

const names: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

export function createStoreGuard(enabled: boolean, opts: BreakerOptions): StoreGuard {
  if (!enabled) {
    return { enabled, run: (fn) => fn(), state: () => 'closed', dispose: () => {} };
  }
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: opts.halfOpenAfterMs, breaker: new ConsecutiveBreaker(opts.failures) });
  const sub = breaker.onStateChange((s) => opts.onStateChange?.(names[s]));
  return {
    enabled,
    run: (fn) => breaker.execute(() => withBudget(fn(), opts.timeoutMs)),
    state: () => names[breaker.state],
    dispose: () => sub.dispose(),
  };
}

export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError';
}

/**
 * The caller gets its answer at the budget even if Redis never replies (like cockatiel's aggressive
 * timeout, which on this hot path cost an AbortController and listeners per call on a shared signal).
 */
function withBudget<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(`store call exceeded its ${ms} ms budget`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
