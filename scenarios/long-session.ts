/**
 * long-session: sessions that grow to 1,000 turns (250 in the ci profile) with realistic message
 * sizes, some turns pinned ("remember: ..."), one oversized turn per session, and a few sessions
 * left idle past their TTL.
 *
 * Proves the bounds safeguard: stored state stays under its cap, latency does not grow with the
 * session, every key has a TTL and idle sessions expire, oversized turns are refused without
 * changing anything, and pinned facts survive compaction into the summary.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { appendTurn, deleteSession, readSession } from './lib/session-ops.ts';
import { flushHistory } from './lib/history.ts';
import { message, pause, seeded, sized, type ScenarioSpec } from './lib/spec.ts';

// stress: many sessions growing at once (each VU is one session with 40 ms of think time, so 100
// of them ask about 2,000 turns/s of the one instance), each as long as at ci.
const SESSIONS = sized({ ci: 4, full: 20, stress: 100 });
const TURNS = sized({ ci: 250, full: 1_000, stress: 250 });
const PIN_EVERY = 50;
const IDLE_SESSIONS = 3;
/** A bound the backend declares (the harness passes its profile's bounds), else the one the harness gives its own service. */
const declared = (name: string, otherwise: number): number => (/^\d+(\.\d+)?$/.test(__ENV[name] ?? '') ? Number(__ENV[name]) : otherwise);
const TTL_S = declared('STATEPROOF_TTL_SECONDS', sized({ ci: 5, full: 30, stress: 5 }));
/** No TTL ('none' declared, or none declared): the idle sessions are read after a fixed wait, to measure what they keep. */
const NO_TTL = __ENV.STATEPROOF_TTL_SECONDS === 'none' || __ENV.STATEPROOF_TTL_SECONDS === 'undeclared';
/** The longest this run waits for idle sessions to expire; a longer declared TTL is not observable here. */
const MAX_IDLE_WAIT_S = sized({ ci: 30, full: 120, stress: 30 });
const IDLE_WAIT_S = NO_TTL ? sized({ ci: 12, full: 60, stress: 12 }) : Math.min(TTL_S + 3, MAX_IDLE_WAIT_S);
const MAX_TURN_BYTES = declared('STATEPROOF_MAX_TURN_BYTES', 8_192);
const MAX_STATE_BYTES = declared('STATEPROOF_MAX_STATE_BYTES', 51_200);
const WINDOW_TURNS = declared('STATEPROOF_WINDOW_TURNS', 10);
const FIRST_N = 100;
const FRESH_SUFFIX = '-fresh';
/** Think time between turns: growth must outlast the idle sessions' TTL, so the sessions that
 * grew are still alive (and full) when the store is snapshotted. */
const THINK_MS = 40;
export const PINNED_PREFIX = 'remember:';

export const stateproof: ScenarioSpec = {
  name: 'long-session',
  summary: `Sessions grow to ${TURNS} turns with pinned facts and oversized turns; state must stay bounded, expire when idle and keep what was pinned.`,
  guards: 'bounds',
  topology: {
    instances: 1,
    router: 'round-robin',
    serviceArgs: ['--ttl-seconds', String(TTL_S), '--max-turn-bytes', String(MAX_TURN_BYTES), '--max-state-bytes', String(MAX_STATE_BYTES), '--window-turns', String(WINDOW_TURNS), '--model-latency-ms', '0'],
  },
  plan: { faults: [] },
  invariants: ['bytes-within-cap', 'no-unbounded-growth', 'latency-flat', 'ttl-set', 'idle-expired', 'oversized-rejected', 'pinned-facts-kept', 'no-lost-writes', 'no-duplicates', 'revision-per-turn', 'delete-removes', 'metrics-agree'],
  check: { windowTurns: WINDOW_TURNS, maxStateBytes: MAX_STATE_BYTES, ttlSeconds: TTL_S, maxIdleWaitSeconds: MAX_IDLE_WAIT_S, idleSessionPrefix: 'idle-', pinnedPrefix: PINNED_PREFIX, baselineSuffix: FRESH_SUFFIX },
  sizes: { sessions: SESSIONS, turns: TURNS, vus: SESSIONS, ttlSeconds: TTL_S },
};

export const options: Options = {
  scenarios: {
    grow: { executor: 'per-vu-iterations', vus: SESSIONS, iterations: 1, maxDuration: sized({ ci: '2m', full: '30m', stress: '5m' }) },
    // Once the idle sessions have outlived their TTL: they must be gone.
    expire: { executor: 'per-vu-iterations', vus: 1, iterations: 1, startTime: `${IDLE_WAIT_S}s`, exec: 'expire', maxDuration: '30s' },
  },
};

export async function setup(): Promise<void> {
  for (let s = 0; s < IDLE_SESSIONS; s++) await appendTurn(`idle-${s}`, `idle-${s}-t0`, 'a session nobody comes back to');
  await flushHistory();
}

export default async function (): Promise<void> {
  // One iteration per VU: the iteration's index in the scenario names the session (VU ids are
  // shared with the other scenario, so they are not 1..SESSIONS here).
  const n = exec.scenario.iterationInTest;
  const session = `long-${n}`;
  const rand = seeded((n + 1) * 7919);
  for (let t = 0; t < TURNS; t++) {
    const pinned = t % PIN_EVERY === PIN_EVERY - 1;
    // A pinned turn's id ends in "-pinned" and its text names the id: the pinned-facts check
    // looks for the id in the final summary (or window).
    const turnId = pinned ? `${session}-t${t}-pinned` : `${session}-t${t}`;
    const content = pinned ? `${PINNED_PREFIX} fact ${turnId}: ${message(rand, 40)}` : message(rand, 200 + Math.floor(rand() * 800));
    await appendTurn(session, turnId, content);
    if (t === Math.floor(TURNS / 2)) {
      // One turn over the per-turn limit: it must get 413 and leave the session as it was.
      await readSession(session, 'strong');
      await appendTurn(session, `${session}-oversized`, message(rand, MAX_TURN_BYTES * 2), { tags: { oversized: 'true' } });
      await readSession(session, 'strong');
    }
    if (t % 25 === 24) await readSession(session, 'strong');
    await pause(THINK_MS);
    if (t >= TURNS - FIRST_N) {
      // A fresh companion session takes its first turns while this one takes its last: the
      // latency-flat check compares the two sets measured side by side, so machine noise at
      // one moment of the run cannot pass for growth (or hide it).
      const f = t - (TURNS - FIRST_N);
      await appendTurn(`${session}${FRESH_SUFFIX}`, `${session}${FRESH_SUFFIX}-t${f}`, message(rand, 200 + Math.floor(rand() * 800)));
    }
  }
  await readSession(session, 'strong', { withSummary: true });
  await flushHistory();
}

export async function expire(): Promise<void> {
  for (let s = 0; s < IDLE_SESSIONS; s++) await readSession(`idle-${s}`, 'strong');
  await flushHistory();
}

export async function teardown(): Promise<void> {
  // Touch every grown session so its TTL is fresh when the harness snapshots the store: the
  // snapshot is where "every key has a TTL" is checked.
  for (let n = 0; n < SESSIONS; n++) {
    await appendTurn(`long-${n}`, `long-${n}-final`, 'one last word');
    await appendTurn(`long-${n}${FRESH_SUFFIX}`, `long-${n}${FRESH_SUFFIX}-final`, 'one last word');
  }
  // DELETE removes a session: one short-lived session per run, deleted and read again (404).
  await appendTurn('long-deleted', 'long-deleted-t0', 'a session the user deletes');
  await deleteSession('long-deleted');
  await readSession('long-deleted', 'strong');
  await flushHistory();
}
