/**
 * resharding: a Redis Cluster, two instances, steady write load over sessions spread across the
 * shards; mid-run a range of slots moves from shard 1 to shard 2, slot by slot (SETSLOT IMPORTING /
 * MIGRATING, MIGRATE, SETSLOT NODE), and at the end moves back. Sessions in a moving slot are
 * answered with ASK, in a moved one with MOVED.
 *
 * Nothing is down, so nothing may go wrong: no acknowledged write lost, duplicated or divergent,
 * and no 5xx or degraded answer at all (redirects-followed). With `--unsafe slot-aware` the service
 * keeps the slot map it read at start and treats a redirect as an error: the moved sessions fail
 * and redirects-followed names them.
 */
import type { Options } from 'k6/options';
import { sized, type ScenarioSpec } from './lib/spec.ts';
import { finalReads, seedSessions, steadyIteration } from './lib/steady-traffic.ts';

// stress: a high write rate while the slots move, over enough sessions that none outgrows its window.
const SESSIONS = sized({ ci: 90, full: 300, stress: 2_000 });
const RATE_PER_S = sized({ ci: 40, full: 100, stress: 800 });
const MAX_VUS = sized({ ci: 200, full: 200, stress: 1_500 });
const DURATION_S = sized({ ci: 18, full: 60, stress: 30 });
const MOVE_AT_S = sized({ ci: 4, full: 15, stress: 6 });
/** The slots stay on shard 2 this long after they arrive, then move back. */
const MOVED_FOR_S = sized({ ci: 6, full: 20, stress: 10 });
/** A tenth of shard 1's slots: about a tenth of its sessions move. */
const SLOTS = sized({ ci: 600, full: 1_500, stress: 1_500 });
/** Generous: this scenario judges redirects, not latency, and a loaded CI box stalls for a second now and then. */
const STORE_TIMEOUT_MS = 5_000;
const WINDOW_TURNS = 64;

export const stateproof: ScenarioSpec = {
  name: 'resharding',
  summary: 'move a range of slots between shards of a Redis Cluster under write load, and back; every ASK and MOVED must be followed: no acknowledged write lost, duplicated or divergent, no 5xx.',
  guards: 'slot-aware',
  topology: { store: 'redis-cluster', instances: 2, router: 'round-robin', serviceArgs: ['--window-turns', String(WINDOW_TURNS), '--store-timeout-ms', String(STORE_TIMEOUT_MS)] },
  plan: {
    seed: 19,
    faults: [{ id: 'reshard', target: 'store', at: `${MOVE_AT_S}s`, duration: `${MOVED_FOR_S}s`, fault: { type: 'reshard', slots: SLOTS, from: 1, to: 2 } }],
  },
  invariants: ['no-lost-writes', 'no-duplicates', 'no-divergence', 'no-phantom-writes', 'redirects-followed', 'no-store-5xx', 'degradation-flagged', 'store-agrees'],
  check: { windowTurns: WINDOW_TURNS, storeTimeoutMs: STORE_TIMEOUT_MS },
  sizes: { sessions: SESSIONS, ratePerSecond: RATE_PER_S, maxVUs: MAX_VUS, durationSeconds: DURATION_S, slots: SLOTS },
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
  await seedSessions('rs-', SESSIONS);
}

export default async function (): Promise<void> {
  await steadyIteration({ prefix: 'rs-', sessions: SESSIONS, readEvery: 5, minBytes: 80, spreadBytes: 120 });
}

export async function teardown(): Promise<void> {
  await finalReads('rs-', SESSIONS);
}
