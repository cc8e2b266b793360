/**
 * What a scenario tells the harness besides its k6 options: the world it needs, the faults to
 * inject, and the invariants that decide its verdict. Scenarios export it as `stateproof`; real k6
 * ignores the export, the harness reads it. Plain data only, so it is written into the report.
 * Types and plain constants only (no k6 globals), so the harness's own program can import them.
 */
export type Safeguard = 'breaker' | 'bounds' | 'cas' | 'migrations' | 'observability' | 'slot-aware';
/**
 * ci: short, for every commit; full: the long version; stress: near the reference service's
 * measured capacity on this project's 2-core machine (thousands of turns/s), with every fault.
 */
export const PROFILES = ['ci', 'full', 'stress'] as const;
export type Profile = (typeof PROFILES)[number];

export interface ScenarioTopology {
  /** Number of reference-service instances, or one schema version per instance. */
  instances: number | Array<{ schemaVersion?: number }>;
  router?: 'sticky' | 'round-robin' | 'random';
  replica?: boolean;
  /** The store the scenario needs when --store does not say, e.g. redis-cluster. */
  store?: 'redis' | 'valkey' | 'postgres' | 'redis-cluster' | 'valkey-cluster';
  aof?: boolean;
  redisConfig?: Record<string, string>;
  /** Extra flags for every instance, e.g. ['--ttl-seconds', '6']. */
  serviceArgs?: string[];
}

export interface ScenarioSpec {
  name: string;
  summary: string;
  /** The safeguard whose absence this scenario must catch. */
  guards: Safeguard;
  topology: ScenarioTopology;
  /** A fault plan in chaos/plan.ts's format. */
  plan: { seed?: number; faults: Array<Record<string, unknown>> };
  /** Names of the invariants that decide the verdict (see README, "Invariants"). */
  invariants: string[];
  /** Settings the checkers need to judge this scenario. */
  check?: {
    windowTurns?: number;
    stalenessBoundMs?: number;
    storeTimeoutMs?: number;
    maxStateBytes?: number;
    ttlSeconds?: number;
    /** The longest the scenario waits for idle sessions to expire: a longer declared TTL cannot be observed. */
    maxIdleWaitSeconds?: number;
    /** Sessions created then left idle; after the TTL they must be gone. */
    idleSessionPrefix?: string;
    /** Turn contents starting with this are pinned facts that must survive compaction. */
    pinnedPrefix?: string;
    /**
     * latency-flat: sessions named <session><suffix> took their first turns while <session> took
     * its last; compare those side by side instead of a session's first and last turns.
     */
    baselineSuffix?: string;
  };
  /**
   * The load this profile chose, in the scenario's own words (sessions, ratePerSecond, vus,
   * durationSeconds...): what `stateproof list --profile <p>` shows beside the executors.
   */
  sizes?: Record<string, number>;
  /** Data the harness writes into Redis before the load starts. */
  seed?: { v1Sessions?: number; sessionPrefix?: string };
}
