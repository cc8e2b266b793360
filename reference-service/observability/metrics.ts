/**
 * Safeguard 5, metrics: prom-client on a registry of this service's own (several services may run
 * in one process in tests). With the safeguard off the registry holds only prom-client's process
 * defaults and every recording call below is a no-op.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type StoreOp = 'load' | 'save' | 'delete';
export type Tier = 'redis' | 'postgres' | 'cache' | 'replica';
export type LifecycleEvent = 'create' | 'expire' | 'migrate' | 'reject' | 'degrade';

export interface Metrics {
  readonly registry: Registry;
  opDuration(op: StoreOp, tier: Tier, seconds: number): void;
  stateSize(bytes: number): void;
  conflict(): void;
  cache(tier: 'local' | 'replica', result: 'hit' | 'miss'): void;
  lifecycle(event: LifecycleEvent): void;
  breakerState(value: 0 | 1 | 2): void;
  degraded(): void;
  http(route: string, status: number): void;
}

export function createMetrics(enabled: boolean): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (!enabled) {
    const noop = () => {};
    return { registry, opDuration: noop, stateSize: noop, conflict: noop, cache: noop, lifecycle: noop, breakerState: noop, degraded: noop, http: noop };
  }
  const registers = [registry];
  const opDuration = new Histogram({
    name: 'stateproof_state_op_duration_seconds',
    help: 'State store operation latency by op and tier.',
    labelNames: ['op', 'tier'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const stateSize = new Histogram({
    name: 'stateproof_state_size_bytes',
    help: 'Size of the stored session envelope, observed on save.',
    buckets: [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 51200, 65536, 131072, 262144, 1048576],
    registers,
  });
  const conflicts = new Counter({ name: 'stateproof_state_conflicts_total', help: '409 revision_conflict answers.', registers });
  const cache = new Counter({ name: 'stateproof_state_cache_total', help: 'Read cache lookups by tier and result.', labelNames: ['tier', 'result'] as const, registers });
  const lifecycle = new Counter({
    name: 'stateproof_state_lifecycle_events_total',
    help: 'Session lifecycle events: create, expire (observed), migrate (written back), reject (413/409 schema), degrade (breaker opened).',
    labelNames: ['event'] as const,
    registers,
  });
  const breaker = new Gauge({ name: 'stateproof_breaker_state', help: 'Store circuit breaker: 0 closed, 1 open, 2 half-open.', registers });
  const degraded = new Counter({ name: 'stateproof_degraded_responses_total', help: 'Responses served in degraded mode.', registers });
  const http = new Counter({ name: 'stateproof_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'] as const, registers });
  for (const e of ['create', 'expire', 'migrate', 'reject', 'degrade'] as const) lifecycle.labels(e).inc(0);
  breaker.set(0);

  // Label children resolved once: the turn path records several metrics per request.
  const opChildren = new Map<string, { observe(v: number): void }>();
  const httpChildren = new Map<string, { inc(): void }>();
  return {
    registry,
    opDuration(op, tier, seconds) {
      const k = op + tier;
      let c = opChildren.get(k);
      if (!c) opChildren.set(k, (c = opDuration.labels(op, tier)));
      c.observe(seconds);
    },
    stateSize: (bytes) => stateSize.observe(bytes),
    conflict: () => conflicts.inc(),
    cache: (tier, result) => cache.labels(tier, result).inc(),
    lifecycle: (event) => lifecycle.labels(event).inc(),
    breakerState: (value) => breaker.set(value),
    degraded: () => degraded.inc(),
    http(route, status) {
      const k = route + status;
      let c = httpChildren.get(k);
      if (!c) httpChildren.set(k, (c = http.labels(route, String(status))));
      c.inc();
    },
  };
}
