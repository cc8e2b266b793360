/**
 * cluster-failover: a Redis Cluster (3 primaries, 1 replica each), two instances, steady write load
 * over sessions spread across the shards by their per-session hash tag; mid-run shard 1's primary
 * is killed with kill -9 and the cluster itself promotes its replica (cluster-node-timeout, then an
 * election: nothing outside the cluster moves anything).
 *
 * Writes to shard 1 acknowledged just before the kill may not have reached the replica: that is the
 * asynchronous-replication window failover-loss-window measures (as the failover scenario does for a
 * single primary), and any loss outside it fails. The other two shards keep serving throughout
 * (cluster-require-full-coverage no). Once the old primary is back (as a replica), every answer must
 * be normal again within 5 s: the service found the promoted replica by itself, following the
 * cluster's new slot map. With `--unsafe slot-aware` it keeps its first map, so shard 1's sessions
 * never recover and recovers-within-5s fails.
 */
import type { Options } from 'k6/options';
import { sized, type ScenarioSpec } from './lib/spec.ts';
import { finalReads, seedSessions, steadyIteration } from './lib/steady-traffic.ts';

// stress: a high write rate at the kill, over enough sessions that none outgrows its window.
const SESSIONS = sized({ ci: 60, full: 300, stress: 2_000 });
const RATE_PER_S = sized({ ci: 40, full: 100, stress: 800 });
const MAX_VUS = sized({ ci: 200, full: 200, stress: 1_500 });
const DURATION_S = sized({ ci: 20, full: 60, stress: 25 });
const KILL_AT_S = sized({ ci: 7, full: 25, stress: 8 });
/** The old primary stays down this long, then rejoins; the rest of the load is the recovery period. */
const DOWN_FOR_S = sized({ ci: 5, full: 10, stress: 5 });
const STORE_TIMEOUT_MS = 250;
/** Large enough that no session's window compacts, so every lost turn is provable. */
const WINDOW_TURNS = 64;

export const stateproof: ScenarioSpec = {
  name: 'cluster-failover',
  summary: "kill -9 one shard's primary of a Redis Cluster under write load; the cluster promotes its replica; the loss of acknowledged writes is measured and must stay within the window just before the kill, and normal service must return by itself.",
  guards: 'slot-aware',
  topology: { store: 'redis-cluster', instances: 2, router: 'round-robin', serviceArgs: ['--window-turns', String(WINDOW_TURNS), '--store-timeout-ms', String(STORE_TIMEOUT_MS)] },
  plan: {
    seed: 19,
    // Named "failover" so the failover invariants find the kill's instant.
    faults: [{ id: 'failover', target: 'store', at: `${KILL_AT_S}s`, duration: `${DOWN_FOR_S}s`, fault: { type: 'cluster_failover', shard: 1, mode: 'kill' } }],
  },
  invariants: ['failover-loss-window', 'no-duplicates', 'no-divergence-after-failover', 'no-store-5xx', 'degradation-flagged', 'no-phantom-writes', 'recovers-within-5s'],
  check: { windowTurns: WINDOW_TURNS, storeTimeoutMs: STORE_TIMEOUT_MS },
  sizes: { sessions: SESSIONS, ratePerSecond: RATE_PER_S, maxVUs: MAX_VUS, durationSeconds: DURATION_S, killAtSeconds: KILL_AT_S },
};

export const options: Options = {
  scenarios: {
    traffic: {
      executor: 'constant-arrival-rate',
      rate: RATE_PER_S,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.max(20, RATE_PER_S / 10),
      maxVUs: MAX_VUS,
    },
  },
};

export async function setup(): Promise<void> {
  await seedSessions('cf-', SESSIONS);
}

export default async function (): Promise<void> {
  await steadyIteration({ prefix: 'cf-', sessions: SESSIONS, readEvery: 5, minBytes: 80, spreadBytes: 120 });
}

export async function teardown(): Promise<void> {
  // The final word on every session, from whichever primary serves it now.
  await finalReads('cf-', SESSIONS);
}
