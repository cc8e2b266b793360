/**
 * Safeguard 2 (bounds): append one exchange, keep the last N in the window and fold older ones into
 * the compact summary. Facts the user pins ("remember: ...") go into the summary when appended, so
 * they survive compaction. Pure: same inputs, same state.
 */
import type { SessionState, Turn } from '../schema/state.ts';

const PIN = /^\s*remember:\s*([\s\S]*?)\s*$/i;

/** The fact a turn pins, or undefined. */
export function pinnedFact(user: string): string | undefined {
  const m = PIN.exec(user);
  return m && m[1] ? m[1] : undefined;
}

/** `windowTurns` undefined = unbounded (bounds off): full history kept. */
export function appendTurn(state: SessionState, turn: Turn, windowTurns: number | undefined): SessionState {
  const fact = pinnedFact(turn.user);
  const pinned = fact !== undefined && !state.pinned.includes(fact) ? [...state.pinned, fact] : state.pinned;
  let turns = [...state.turns, turn];
  let compactedTurns = state.compactedTurns;
  if (windowTurns !== undefined && turns.length > windowTurns) {
    compactedTurns += turns.length - windowTurns;
    turns = turns.slice(turns.length - windowTurns);
  }
  return {
    turns,
    turnCount: state.turnCount + 1,
    compactedTurns,
    pinned,
    createdAtMs: state.createdAtMs || turn.atMs,
    updatedAtMs: turn.atMs,
  };
}
