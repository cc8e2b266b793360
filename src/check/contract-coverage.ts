/**
 * The contract-coverage matrix: each promise of the backend contract (DESIGN.md "The backend
 * contract", reference-service/openapi.json), the invariants that check it, and the scenarios whose
 * traffic exercises it. README's Checkers section prints it; test/check/contract-coverage.test.ts
 * holds it to the registry and to each scenario's own list, so a promise cannot lose its check.
 */
export interface ContractPromise {
  promise: string;
  invariants: readonly string[];
  scenarios: readonly string[];
}

export const CONTRACT_COVERAGE: readonly ContractPromise[] = [
  { promise: 'an acknowledged turn is kept (in the window while it fits, always in turnCount)', invariants: ['no-lost-writes', 'store-agrees'], scenarios: ['cross-instance', 'store-outage', 'long-session', 'migration', 'failover'] },
  { promise: 'a turn that definitely failed never appears', invariants: ['no-phantom-writes'], scenarios: ['cross-instance', 'store-outage'] },
  { promise: 'turnId is an idempotency key: a replay never appends twice and answers applied:false', invariants: ['no-duplicates', 'revision-per-turn'], scenarios: ['cross-instance', 'store-outage', 'failover'] },
  { promise: 'revision rises by exactly one per applied turn; turnCount counts every applied turn', invariants: ['revision-per-turn'], scenarios: ['cross-instance', 'store-outage', 'long-session'] },
  { promise: 'If-Match makes an append conditional (409 revision_conflict)', invariants: ['cas-respected', 'metrics-agree'], scenarios: ['cross-instance'] },
  { promise: 'turns is the retained window, oldest first, in acknowledged order', invariants: ['turn-order', 'no-divergence'], scenarios: ['cross-instance', 'store-outage'] },
  { promise: 'read modes: strong is linearizable, bounded within its staleness bound, session guarantees', invariants: ['read-your-writes', 'monotonic-reads', 'monotonic-writes', 'writes-follow-reads', 'bounded-staleness'], scenarios: ['cross-instance'] },
  { promise: 'DELETE removes the session (then 404)', invariants: ['delete-removes'], scenarios: ['long-session'] },
  { promise: 'the token names a tenant; another tenant\'s session answers 404, never leaked', invariants: ['tenant-isolation'], scenarios: ['cross-instance', 'store-outage'] },
  { promise: 'mode normal|degraded in the body and X-State-Mode on every answer', invariants: ['degradation-flagged'], scenarios: ['cross-instance', 'store-outage', 'long-session', 'migration', 'failover'] },
  { promise: 'a store failure is never a bare 500 (503 + Retry-After when a write cannot be made durable)', invariants: ['no-store-5xx'], scenarios: ['store-outage', 'cross-instance', 'migration', 'failover'] },
  { promise: 'state stays bounded: window + summary, size cap, per-turn limit (413), TTL', invariants: ['bytes-within-cap', 'no-unbounded-growth', 'oversized-rejected', 'ttl-set', 'idle-expired', 'pinned-facts-kept'], scenarios: ['long-session'] },
  { promise: 'schemaVersion never goes backwards; newer versions are refused, not overwritten', invariants: ['no-schema-regression', 'final-schema-version'], scenarios: ['migration'] },
  { promise: 'state metrics on /metrics agree with what clients saw', invariants: ['metrics-agree'], scenarios: ['cross-instance', 'store-outage', 'long-session', 'migration'] },
];
