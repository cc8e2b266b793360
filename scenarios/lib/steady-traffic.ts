/**
 * The shape most fault scenarios share: a pool of sessions seeded with one turn each, iterations
 * that append (and now and then read) under an arrival-rate executor, and a final strong read of
 * every session once the faults are over — the last word the lost-write check compares against.
 */
import exec from 'k6/execution';
import { appendTurn, readSession } from './session-ops.ts';
import { appendWithReplays } from './replays.ts';
import { crossTenantProbe } from './tenants.ts';
import { flushHistory } from './history.ts';
import { message, pause, seeded } from './spec.ts';

/** One turn in each of `count` sessions `<prefix><n>`, so degraded reads have something to show. */
export async function seedSessions(prefix: string, count: number): Promise<void> {
  for (let s = 0; s < count; s++) await appendTurn(`${prefix}${s}`, `${prefix}${s}-seed`, 'hello');
  await flushHistory();
}

export interface SteadyIteration {
  prefix: string;
  sessions: number;
  /** Every readEvery-th iteration reads instead of appending. */
  readEvery: number;
  /** Message size: minBytes plus up to spreadBytes more. */
  minBytes: number;
  spreadBytes: number;
  timeoutMs?: number;
  /** Now and then the second tenant (when the run has one) writes the same session id and reads this tenant's. */
  tenantProbes?: boolean;
}

/** One iteration: a strong read or an append with a unique turn id, to a session of the pool. */
export async function steadyIteration(o: SteadyIteration): Promise<void> {
  const i = exec.scenario.iterationInTest;
  const session = `${o.prefix}${i % o.sessions}`;
  const rand = seeded(i + 1);
  const timeoutMs = o.timeoutMs ?? 3_000;
  if (i % o.readEvery === o.readEvery - 1) await readSession(session, 'strong', { timeoutMs });
  else await appendWithReplays(session, `${o.prefix}${i}`, message(rand, o.minBytes + Math.floor(rand() * o.spreadBytes)), rand(), exec.vu.idInTest, { timeoutMs });
  // Now and then the second tenant writes the same session id and reads the first tenant's.
  if (o.tenantProbes && i % 50 === 7) await crossTenantProbe(session);
  await flushHistory();
}

/**
 * A strong read of every session. A degraded (or refused) answer proves nothing about what the
 * store kept, so each read is asked again, a bounded number of times, until the store answers.
 */
export async function finalReads(prefix: string, count: number, attempts = 5, gapMs = 200): Promise<void> {
  for (let s = 0; s < count; s++) {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const r = await readSession(`${prefix}${s}`, 'strong');
      if (r.ok && r.mode !== 'degraded') break;
      if (attempt < attempts) await pause(gapMs);
    }
  }
  await flushHistory();
}
