/**
 * cross-instance: three instances behind a router; concurrent writers append to shared sessions
 * through different instances, readers use every read mode, some appends are conditional
 * (If-Match), and one instance's link to Redis is cut while it keeps taking requests (split brain).
 *
 * Proves the cas safeguard: no lost, phantom or duplicated turn, no divergent histories, session
 * guarantees in strong mode, staleness within the bound in bounded mode, and the service's
 * conflict counter equal to the 409s the client saw.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { appendTurn, readSession, type Consistency } from './lib/session-ops.ts';
import { flushHistory } from './lib/history.ts';
import { message, seeded, sized, type ScenarioSpec } from './lib/spec.ts';
import { finalReads } from './lib/steady-traffic.ts';
import { appendWithReplays } from './lib/replays.ts';
import { crossTenantProbe } from './lib/tenants.ts';

// stress: 64 writers, where the three instances measured about 2,200 turns/s on redis here; two
// sessions per writer, as at full, so each session still takes tens of turns a second.
const SESSIONS = sized({ ci: 8, full: 40, stress: 128 });
const WRITERS = sized({ ci: 12, full: 30, stress: 64 });
const DURATION_S = sized({ ci: 16, full: 90, stress: 40 });
const SPLIT_AT_S = sized({ ci: 5, full: 30, stress: 12 });
const SPLIT_FOR_S = sized({ ci: 5, full: 20, stress: 10 });
const STALENESS_BOUND_MS = 1_000;
const MODES: Consistency[] = ['strong', 'bounded', 'eventual'];

export const stateproof: ScenarioSpec = {
  name: 'cross-instance',
  summary: 'Concurrent writers on shared sessions through three instances, every read mode, and one instance cut off from Redis; no turn may be lost, doubled or forked.',
  guards: 'cas',
  topology: {
    instances: 3,
    router: 'round-robin',
    serviceArgs: ['--bounded-staleness-ms', String(STALENESS_BOUND_MS), '--model-latency-ms', '1-4'],
  },
  plan: {
    seed: 3,
    faults: [{ id: 'split-brain-i2', target: 'redis-i2', at: `${SPLIT_AT_S}s`, duration: `${SPLIT_FOR_S}s`, fault: { type: 'down' } }],
  },
  invariants: [
    'no-lost-writes',
    'no-phantom-writes',
    'no-duplicates',
    'no-divergence',
    'read-your-writes',
    'monotonic-reads',
    'monotonic-writes',
    'writes-follow-reads',
    'bounded-staleness',
    'no-store-5xx',
    'degradation-flagged',
    'cas-respected',
    'revision-per-turn',
    'turn-order',
    'tenant-isolation',
    'audit-agrees',
    'store-agrees',
    'metrics-agree',
  ],
  check: { windowTurns: 10, stalenessBoundMs: STALENESS_BOUND_MS },
  sizes: { sessions: SESSIONS, vus: WRITERS, durationSeconds: DURATION_S, splitAtSeconds: SPLIT_AT_S, splitForSeconds: SPLIT_FOR_S },
};

export const options: Options = {
  scenarios: {
    writers: { executor: 'constant-vus', vus: WRITERS, duration: `${DURATION_S}s` },
  },
};

export default async function (): Promise<void> {
  const vu = exec.vu.idInTest;
  const i = exec.scenario.iterationInTest;
  const rand = seeded(i * 31 + vu);
  const session = `x-${Math.floor(rand() * SESSIONS)}`;
  const mode = MODES[vu % MODES.length]!;
  if (i % 5 === 4) {
    // A conditional append on what was just read: concurrent writers make some of these conflict.
    const seen = await readSession(session, 'strong');
    if (seen.ok) await appendTurn(session, `x-${vu}-${i}`, message(rand, 150), { ifMatch: seen.revision ?? 0 });
  } else {
    await appendWithReplays(session, `x-${vu}-${i}`, message(rand, 100 + Math.floor(rand() * 200)), rand(), vu);
  }
  await readSession(session, mode);
  if (i % 40 === 3) await crossTenantProbe(session);
  await flushHistory();
}

export async function teardown(): Promise<void> {
  await finalReads('x-', SESSIONS);
}
