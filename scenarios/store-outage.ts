/**
 * store-outage: steady arrival-rate traffic while the store fails in five ways, with recovery
 * after each: the link to Redis down, 800±200 ms latency, connection resets, writes refused while
 * reads work (CLIENT PAUSE WRITE), and out-of-memory on writes.
 *
 * Proves the breaker safeguard: the service must degrade (flagged) instead of failing, answer
 * within its timeout budget, refuse undurable writes with 503, and come back once the store does.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { appendTurn, readSession } from './lib/session-ops.ts';
import { flushHistory } from './lib/history.ts';
import { message, profile, seeded, type ScenarioSpec } from './lib/spec.ts';

const full = profile() === 'full';
const SESSIONS = full ? 200 : 30;
const RATE_PER_S = full ? 100 : 40;
/** One fault window and the recovery gap after it, in seconds. */
const FAULT_S = full ? 15 : 4;
const GAP_S = full ? 10 : 3;
const STORE_TIMEOUT_MS = 100;

const faults: Array<{ id: string; target: string; fault: Record<string, unknown> }> = [
  { id: 'link-down', target: 'redis-i1', fault: { type: 'down' } },
  { id: 'latency-800ms', target: 'redis-i1', fault: { type: 'latency', attributes: { latency: 800, jitter: 200 } } },
  { id: 'reset-peer', target: 'redis-i1', fault: { type: 'reset_peer', attributes: { timeout: 0 } } },
  { id: 'writes-paused', target: 'redis-server', fault: { type: 'pause_writes' } },
  { id: 'oom', target: 'redis-server', fault: { type: 'oom' } },
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
    'fault-p99-within-budget',
    'recovers-within-5s',
    'audit-agrees',
    'store-agrees',
    'metrics-agree',
  ],
  check: { storeTimeoutMs: STORE_TIMEOUT_MS, windowTurns: 10 },
};

export const options: Options = {
  scenarios: {
    traffic: {
      executor: 'constant-arrival-rate',
      rate: RATE_PER_S,
      timeUnit: '1s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: 20,
      maxVUs: 200,
    },
  },
  thresholds: {
    // Degradation is allowed; crashing is not. Most requests must still get a contract answer.
    'http_req_failed{op:read}': ['rate<0.05'],
  },
};

export async function setup(): Promise<void> {
  // Every session starts with one turn, so degraded reads have something to fall back to.
  for (let s = 0; s < SESSIONS; s++) await appendTurn(`so-${s}`, `so-${s}-seed`, 'hello');
  await flushHistory();
}

export default async function (): Promise<void> {
  const i = exec.scenario.iterationInTest;
  const session = `so-${i % SESSIONS}`;
  const rand = seeded(i + 1);
  if (i % 4 === 3) {
    await readSession(session, 'strong', { timeoutMs: 3_000 });
  } else {
    await appendTurn(session, `so-${i}`, message(rand, 120 + Math.floor(rand() * 300)), { timeoutMs: 3_000 });
  }
  await flushHistory();
}

export async function teardown(): Promise<void> {
  // The final word on every session, read once the store is back: the lost-write check needs it.
  for (let s = 0; s < SESSIONS; s++) await readSession(`so-${s}`, 'strong');
  await flushHistory();
}
