/**
 * The stores a run can have, and the store faults each one can have. A fault that means the same
 * thing on two stores has one name on both (`pause_writes`: CLIENT PAUSE WRITE on Redis and Valkey,
 * read-only on Postgres; `stall`: DEBUG SLEEP there, SIGSTOP of every Postgres process here;
 * `store_restart`). A fault a store cannot have is refused before the run starts.
 */
export const STORE_KINDS = ['redis', 'valkey', 'postgres', 'redis-cluster', 'valkey-cluster'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

const REDIS_PROTOCOL_FAULTS = ['oom', 'evict', 'pause_writes', 'stall', 'flushall', 'redis_restart', 'store_restart', 'failover'] as const;

const CLUSTER_FAULTS: readonly string[] = ['cluster_failover', 'reshard'];

/** Store faults per store, in the order the refusal message lists them. */
export const STORE_FAULTS_BY_KIND: Readonly<Record<StoreKind, readonly string[]>> = {
  redis: REDIS_PROTOCOL_FAULTS,
  // Valkey 8 speaks the Redis protocol and keeps its commands: the Redis faults apply unchanged.
  valkey: REDIS_PROTOCOL_FAULTS,
  postgres: ['pause_writes', 'stall', 'terminate_backends', 'connections_exhausted', 'store_restart'],
  // A cluster's faults act on its shards (chaos/cluster-faults.ts); a node link's faults are network faults.
  'redis-cluster': CLUSTER_FAULTS,
  'valkey-cluster': CLUSTER_FAULTS,
};

/** Undefined when `kind` can have `fault`, else the one-line reason naming what it does have. */
export function storeFaultRefusal(kind: StoreKind, fault: string): string | undefined {
  const has = STORE_FAULTS_BY_KIND[kind];
  if (has.includes(fault)) return undefined;
  return `the store is ${kind}, which cannot have a ${fault} fault; its store faults are: ${has.join(', ')}`;
}
