/**
 * store-outage: steady arrival-rate traffic while the store fails in five ways, with recovery
 * after each: the link to Redis down, 800±200 ms latency, connection resets, writes refused while
 * reads work (CLIENT PAUSE WRITE; read-only on Postgres), and out-of-memory on writes (Postgres has
 * no such state: there the fifth is a stalled server, every Postgres process SIGSTOPped).
 *
 * Proves the breaker safeguard: the service must degrade (flagged) instead of failing, answer
 * within its timeout budget, refuse undurable writes with 503, and come back once the store does.
 */
import type { Options } from 'k6/options';
import { sized, store, type ScenarioSpec } from './lib/spec.ts';
import { finalReads, seedSessions, steadyIteration } from './lib/steady-traffic.ts';

// stress: near one instance's measured capacity with the harness on the same 2 cores (README,
// "The stress profile"); a fault that makes every request wait out the store timeout needs about
// rate × 0.1 s VUs at once, so the pool is large.
const SESSIONS = sized({ ci: 30, full: 200, stress: 1_000 });
const RATE_PER_S = sized({ ci: 40, full: 100, stress: 1_500 });
const MAX_VUS = sized({ ci: 200, full: 200, stress: 2_000 });
/** One fault window and the recovery gap after it, in seconds. */
const FAULT_S = sized({ ci: 4, full: 15, stress: 6 });
const GAP_S = sized({ ci: 3, full: 10, stress: 5 });
const STORE_TIMEOUT_MS = 100;

const faults: Array<{ id: string; target: string; fault: Record<string, unknown> }> = [
  { id: 'link-down', target: 'redis-i1', fault: { type: 'down' } },
  { id: 'latency-800ms', target: 'redis-i1', fault: { type: 'latency', attributes: { latency: 800, jitter: 200 } } },
  { id: 'reset-peer', target: 'redis-i1', fault: { type: 'reset_peer', attributes: { timeout: 0 } } },
  { id: 'writes-paused', target: 'redis-server', fault: { type: 'pause_writes' } },
  store() === 'postgres' ? { id: 'stall', target: 'redis-server', fault: { type: 'stall' } } : { id: 'oom', target: 'redis-server', fault: { type: 'oom' } },
];
const DURATION_S = GAP_S + faults.length * (FAULT_S + GAP_S) + 2;

export const stateproof: ScenarioSpec = {
  name: 'store-outage',
  summary: 'Redis down, slow, resetting, write-paused and out of memory under steady traffic; the service must degrade, flag it, and recover.',
  guards: 'breaker',
  topology: { instances: 1, router: 'round-robin', serviceArgs: ['--store-timeout-ms', String(STORE_TIMEOUT_MS)] },
  plan: {
    seed: 1,
    faults: faults.map((f, i) => ({ ...f, at: `${GAP_S + i * (FAULT_S + GAP_S)}s`, duration: `${FAULT_S}s` })),
  },
  invariants: [
    'no-store-5xx',
    'degradation-flagged',
    'no-lost-writes',
    'no-phantom-writes',
    'no-duplicates',
    'revision-per-turn',
    'turn-order',
    'tenant-isolation',
    'fault-p99-within-budget',
    'recovers-within-5s',
    'audit-agrees',
    'store-agrees',
    'metrics-agree',
  ],
  check: { storeTimeoutMs: STORE_TIMEOUT_MS, windowTurns: 10 },
  sizes: { sessions: SESSIONS, ratePerSecond: RATE_PER_S, maxVUs: MAX_VUS, faultSeconds: FAULT_S, gapSeconds: GAP_S, durationSeconds: DURATION_S },
};

export const options: Options = {
  scenarios: {
    traffic: {
      executor: 'constant-arrival-rate',
      rate: RATE_PER_S,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: Math.min(MAX_VUS, Math.max(20, RATE_PER_S / 10)),
      maxVUs: MAX_VUS,
    },
  },
  thresholds: {
    // Degradation is allowed; crashing is not. Most requests must still get a contract answer.
    'http_req_failed{op:read}': ['rate<0.05'],
  },
};

export async function setup(): Promise<void> {
  await seedSessions('so-', SESSIONS);
}

export default async function (): Promise<void> {
  await steadyIteration({ prefix: 'so-', sessions: SESSIONS, readEvery: 4, minBytes: 120, spreadBytes: 300, tenantProbes: true });
}

export async function teardown(): Promise<void> {
  // The final word on every session, read once the store is back: the lost-write check needs it.
  await finalReads('so-', SESSIONS);
}
