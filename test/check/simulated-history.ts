/**
 * A linearizable in-memory "service" that records a history as the scenarios would: each op takes
 * effect at one instant inside its interval, reads return the tail window. Used to check that a
 * correct system yields no anomalies at scale, and how long checkHistory takes.
 */
import type { HistoryEntry } from '../../src/record/history.ts';

export interface SimOptions {
  entries: number;
  sessions: number;
  vus: number;
  windowTurns?: number;
  seed?: number;
  /** Fraction of appends that time out (applied or not at random). */
  unknownRate?: number;
  /** Fraction of appends refused (413). */
  failRate?: number;
}

export function simulateHistory(o: SimOptions): HistoryEntry[] {
  let seed = o.seed ?? 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const windowTurns = o.windowTurns ?? 10;
  const lists = new Map<string, string[]>();
  const out: HistoryEntry[] = [];
  let t = 1_700_000_000_000;
  let turnSeq = 0;
  for (let id = 1; id <= o.entries; id++) {
    const vu = 1 + (id % o.vus);
    const session = `s${Math.floor(rand() * o.sessions)}`;
    const list = lists.get(session) ?? [];
    lists.set(session, list);
    const startMs = t;
    const endMs = t + 2 + rand() * 2;
    t += 1;
    const base = { id, vu, session, intendedStartMs: startMs, startMs, endMs };
    if (rand() < 0.5) {
      const turnId = `turn-${++turnSeq}`;
      const r = rand();
      if (r < (o.failRate ?? 0.01)) {
        out.push({ ...base, op: 'append', turnId, outcome: 'fail', status: 413, code: 'state_too_large', mode: 'normal' });
      } else if (r < (o.failRate ?? 0.01) + (o.unknownRate ?? 0.01)) {
        if (rand() < 0.5) list.push(turnId);
        out.push({ ...base, endMs: startMs + 1000, op: 'append', turnId, outcome: 'unknown', status: 0, code: 'transport:timeout' });
      } else {
        list.push(turnId);
        out.push({ ...base, op: 'append', turnId, outcome: 'ok', status: 200, applied: true, revision: list.length, turnCount: list.length, mode: 'normal', schemaVersion: 3 });
      }
    } else {
      out.push({
        ...base,
        op: 'read',
        outcome: 'ok',
        status: list.length === 0 ? 404 : 200,
        consistency: 'strong',
        revision: list.length,
        turnCount: list.length,
        turnIds: list.slice(-windowTurns),
        mode: 'normal',
        schemaVersion: list.length === 0 ? undefined : 3,
      });
    }
  }
  return out;
}
