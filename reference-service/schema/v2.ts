/**
 * Schema v2: turns as exchanges, an explicit turnCount and a structured summary.
 *
 *   { "turns": [{"turnId","user","assistant"}], "turnCount": n,
 *     "summary": {"compactedTurns": n, "pinned": ["fact", ...]} }
 *
 * Its decoder ignores fields it does not know, as a naive JSON reader would: that is what lets a v2
 * instance with migrations off read v3 state and clobber it (the failure the safeguard prevents).
 */
import { need, isObj, isStr, isCount, isStrArray, type SessionState } from './state.ts';

export interface V2Data {
  turns: Array<{ turnId: string; user: string; assistant: string }>;
  turnCount: number;
  summary: { compactedTurns: number; pinned: string[] };
}

export function decodeV2(d: unknown): SessionState {
  need(
    isObj(d) &&
      Array.isArray(d.turns) &&
      d.turns.every((t) => isObj(t) && isStr(t.turnId) && isStr(t.user) && isStr(t.assistant)) &&
      isCount(d.turnCount) &&
      isObj(d.summary) &&
      isCount(d.summary.compactedTurns) &&
      isStrArray(d.summary.pinned),
    'not v2 data: expected {turns: [{turnId,user,assistant}], turnCount, summary: {compactedTurns, pinned}}',
  );
  const v = d as unknown as V2Data;
  return {
    turns: v.turns.map((t) => ({ turnId: t.turnId, user: t.user, assistant: t.assistant, atMs: 0 })),
    turnCount: v.turnCount,
    compactedTurns: v.summary.compactedTurns,
    pinned: [...v.summary.pinned],
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

export function encodeV2(s: SessionState): V2Data {
  return {
    turns: s.turns.map((t) => ({ turnId: t.turnId, user: t.user, assistant: t.assistant })),
    turnCount: s.turnCount,
    summary: { compactedTurns: s.compactedTurns, pinned: s.pinned },
  };
}
