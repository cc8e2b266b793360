/**
 * Schema v3 (current): v2 plus timestamps per turn and per session, and the summary text stored.
 *
 *   { "turns": [{"turnId","user","assistant","atMs"}], "turnCount": n,
 *     "summary": {"compactedTurns": n, "pinned": [...], "text": "..."},
 *     "createdAtMs": n, "updatedAtMs": n }
 */
import { need, isObj, isStr, isCount, isStrArray, summaryText, type SessionState } from './state.ts';

export interface V3Data {
  turns: Array<{ turnId: string; user: string; assistant: string; atMs: number }>;
  turnCount: number;
  summary: { compactedTurns: number; pinned: string[]; text: string };
  createdAtMs: number;
  updatedAtMs: number;
}

export function decodeV3(d: unknown): SessionState {
  need(
    isObj(d) &&
      Array.isArray(d.turns) &&
      d.turns.every((t) => isObj(t) && isStr(t.turnId) && isStr(t.user) && isStr(t.assistant) && isCount(t.atMs)) &&
      isCount(d.turnCount) &&
      isObj(d.summary) &&
      isCount(d.summary.compactedTurns) &&
      isStrArray(d.summary.pinned) &&
      isStr(d.summary.text) &&
      isCount(d.createdAtMs) &&
      isCount(d.updatedAtMs),
    'not v3 data: expected {turns: [{turnId,user,assistant,atMs}], turnCount, summary: {compactedTurns, pinned, text}, createdAtMs, updatedAtMs}',
  );
  const v = d as unknown as V3Data;
  return {
    turns: v.turns,
    turnCount: v.turnCount,
    compactedTurns: v.summary.compactedTurns,
    pinned: v.summary.pinned,
    createdAtMs: v.createdAtMs,
    updatedAtMs: v.updatedAtMs,
  };
}

export function encodeV3(s: SessionState): V3Data {
  return {
    turns: s.turns,
    turnCount: s.turnCount,
    summary: { compactedTurns: s.compactedTurns, pinned: s.pinned, text: summaryText(s.compactedTurns, s.pinned) },
    createdAtMs: s.createdAtMs,
    updatedAtMs: s.updatedAtMs,
  };
}
