/**
 * turns-per-second: the scorecard's throughput figure, not a scenario of the suite (it lives
 * outside scenarios/*.ts so `list` and `suite` do not pick it up). No faults, no think time, no
 * model latency: STATEPROOF_CONNECTIONS VUs (64 by default) append turns as fast as the backend
 * acknowledges them. Under the built-in engine a VU with one request in flight holds one
 * keep-alive connection, so VUs are connections. Each VU writes its own sessions, a new one every
 * TURNS_PER_SESSION turns: the figure is the uncontended write path, not CAS conflicts or growth.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { appendTurn } from '../lib/session-ops.ts';
import { flushHistory } from '../lib/history.ts';
import { message, pause, seeded, sized, type ScenarioSpec } from '../lib/spec.ts';

const CONNECTIONS = Number(__ENV.STATEPROOF_CONNECTIONS ?? 64);
const DURATION_S = sized({ ci: 10, full: 30, stress: 30 });
const TURNS_PER_SESSION = 20;
/**
 * What a client does with the contract's 503 + Retry-After (the reference service says 1 s): it
 * waits. Without it, 64 VUs with no think time turn fast 503s into a tight loop that keeps the
 * machine too busy for the store calls to get under their budget, and the figure would measure
 * that loop rather than the backend.
 */
const RETRY_AFTER_MS = 1_000;

export const stateproof: ScenarioSpec = {
  name: 'turns-per-second',
  summary: `${CONNECTIONS} connections append turns without faults or think time: acknowledged turns per second.`,
  guards: 'observability',
  topology: { instances: 1, router: 'round-robin', serviceArgs: ['--model-latency-ms', '0'] },
  plan: { faults: [] },
  // Judged from the answers alone: a throughput bought with 5xx or unflagged degradation is not one.
  invariants: ['no-store-5xx', 'degradation-flagged'],
  check: {},
};

export const options: Options = {
  scenarios: { turns: { executor: 'constant-vus', vus: CONNECTIONS, duration: `${DURATION_S}s` } },
};

export default async function (): Promise<void> {
  const vu = exec.vu.idInTest;
  const i = exec.vu.iterationInScenario;
  const rand = seeded(vu * 7919 + i);
  const res = await appendTurn(`tps-${vu}-${Math.floor(i / TURNS_PER_SESSION)}`, `tps-${vu}-${i}`, message(rand, 200));
  await flushHistory();
  if (res.status === 503) await pause(RETRY_AFTER_MS);
}

export async function teardown(): Promise<void> {
  await flushHistory();
}
