/**
 * migration: sessions seeded in schema v1 directly in Redis; the fleet starts on v1 and is rolled
 * to v2, then to v3, one instance at a time under traffic, then one instance is rolled back.
 *
 * Proves the migrations safeguard: no 5xx, no lost turn, no schema version going backwards, old
 * instances refuse (409) rather than overwrite newer state, and every session touched after the
 * v3 rollout ends at v3.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { appendTurn, readSession } from './lib/session-ops.ts';
import { flushHistory } from './lib/history.ts';
import { message, seeded, sized, type ScenarioSpec } from './lib/spec.ts';
import { finalReads } from './lib/steady-traffic.ts';

// stress: a high arrival rate through every rolling restart (each restart takes an instance away,
// so the other two carry the rate), over many v1 sessions.
const SESSIONS = sized({ ci: 30, full: 200, stress: 2_000 });
const RATE_PER_S = sized({ ci: 30, full: 80, stress: 1_000 });
const MAX_VUS = sized({ ci: 100, full: 100, stress: 1_500 });
const STEP_S = sized({ ci: 7, full: 20, stress: 10 });
const GAP_MS = sized({ ci: 1_000, full: 3_000, stress: 1_000 });
const DURATION_S = 4 * STEP_S + 3;

export const stateproof: ScenarioSpec = {
  name: 'migration',
  summary: 'v1 sessions in Redis; rolling deploy v1 → v2 → v3 under traffic, then one rollback step; state must migrate forward and never be clobbered.',
  guards: 'migrations',
  topology: { instances: [{ schemaVersion: 1 }, { schemaVersion: 1 }, { schemaVersion: 1 }], router: 'round-robin' },
  plan: {
    seed: 4,
    faults: [
      { id: 'deploy-v2', target: 'i1,i2,i3', at: `${STEP_S}s`, duration: `${STEP_S}s`, fault: { type: 'rolling_restart', schemaVersion: 2, gapMs: GAP_MS } },
      { id: 'deploy-v3', target: 'i1,i2,i3', at: `${2 * STEP_S}s`, duration: `${STEP_S}s`, fault: { type: 'rolling_restart', schemaVersion: 3, gapMs: GAP_MS } },
      { id: 'rollback-i3', target: 'i3', at: `${3 * STEP_S}s`, duration: `${STEP_S}s`, fault: { type: 'restart', schemaVersion: 2 } },
    ],
  },
  invariants: ['no-store-5xx', 'no-lost-writes', 'no-duplicates', 'no-schema-regression', 'final-schema-version', 'audit-agrees', 'store-agrees', 'metrics-agree'],
  check: { windowTurns: 10 },
  seed: { v1Sessions: SESSIONS, sessionPrefix: 'm-' },
  sizes: { sessions: SESSIONS, ratePerSecond: RATE_PER_S, maxVUs: MAX_VUS, stepSeconds: STEP_S, durationSeconds: DURATION_S },
};

export const options: Options = {
  scenarios: {
    traffic: { executor: 'constant-arrival-rate', rate: RATE_PER_S, timeUnit: '1s', duration: `${DURATION_S}s`, preAllocatedVUs: Math.max(10, RATE_PER_S / 10), maxVUs: MAX_VUS },
  },
};

export default async function (): Promise<void> {
  const i = exec.scenario.iterationInTest;
  const rand = seeded(i + 17);
  const session = `m-${Math.floor(rand() * SESSIONS)}`;
  if (i % 3 === 2) await readSession(session, 'strong');
  else await appendTurn(session, `m-${i}`, message(rand, 200));
  await flushHistory();
}

export async function teardown(): Promise<void> {
  await finalReads('m-', SESSIONS);
}
