/**
 * Safeguard 1: every store call runs under a timeout budget inside a circuit breaker (cockatiel).
 * Consecutive failures open it; after `halfOpenAfterMs` one probe is let through (half-open).
 * Callers turn a rejection into a degraded read or a 503 write. With the safeguard off, store calls
 * run bare: no timeout, no breaker, and their errors surface as 500s.
 */
import { circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy, wrap, CircuitState } from 'cockatiel';

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
  // Aggressive: the caller gets its answer at the budget even if Redis never replies.
  const budget = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive);
  const policy = wrap(breaker, budget);
  const sub = breaker.onStateChange((s) => opts.onStateChange?.(names[s]));
  return {
    enabled,
    run: (fn) => policy.execute(fn),
    state: () => names[breaker.state],
    dispose: () => sub.dispose(),
  };
}
