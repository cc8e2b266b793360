/**
 * Schema v1 (the launch format): a flat message list, user and assistant messages alternating.
 *
 *   { "messages": [{"turnId","role":"user","content"}, {"turnId","role":"assistant","content"}, ...],
 *     "pinned": ["fact", ...], "compacted": <turns folded away> }
 */
import { encodeEnvelope } from './envelope.ts';
import { need, isObj, isStr, isCount, isStrArray, type SessionState, type Turn } from './state.ts';

export interface V1Message {
  turnId: string;
  role: 'user' | 'assistant';
  content: string;
}
export interface V1Data {
  messages: V1Message[];
  pinned: string[];
  compacted: number;
}

export function isV1Data(d: unknown): d is V1Data {
  return (
    isObj(d) &&
    Array.isArray(d.messages) &&
    d.messages.length % 2 === 0 &&
    d.messages.every((m, i) => isObj(m) && isStr(m.turnId) && isStr(m.content) && m.role === (i % 2 === 0 ? 'user' : 'assistant')) &&
    isStrArray(d.pinned) &&
    isCount(d.compacted)
  );
}

export function decodeV1(d: unknown): SessionState {
  need(isV1Data(d), 'not v1 data: expected {messages: [user, assistant, ...], pinned: string[], compacted: n}');
  const turns: Turn[] = [];
  for (let i = 0; i < d.messages.length; i += 2) {
    const u = d.messages[i]!;
    turns.push({ turnId: u.turnId, user: u.content, assistant: d.messages[i + 1]!.content, atMs: 0 });
  }
  return { turns, turnCount: d.compacted + turns.length, compactedTurns: d.compacted, pinned: [...d.pinned], createdAtMs: 0, updatedAtMs: 0 };
}

export function encodeV1(s: SessionState): V1Data {
  const messages: V1Message[] = [];
  for (const t of s.turns) {
    messages.push({ turnId: t.turnId, role: 'user', content: t.user }, { turnId: t.turnId, role: 'assistant', content: t.assistant });
  }
  // v1 has no turnCount of its own: it is compacted + window, so compacted absorbs any difference.
  return { messages, pinned: [...s.pinned], compacted: s.turnCount - s.turns.length };
}

/**
 * A v1 envelope ready to SET at `sessionKey(tenant, id)` — for seeding the migration scenario.
 * Turns are `{turnId, user, assistant}`; revision defaults to the number of turns.
 */
export function encodeV1Session(opts: {
  turns: Array<{ turnId: string; user: string; assistant: string }>;
  pinned?: string[];
  compacted?: number;
  revision?: number;
}): string {
  const compacted = opts.compacted ?? 0;
  const state: SessionState = {
    turns: opts.turns.map((t) => ({ ...t, atMs: 0 })),
    turnCount: compacted + opts.turns.length,
    compactedTurns: compacted,
    pinned: opts.pinned ?? [],
    createdAtMs: 0,
    updatedAtMs: 0,
  };
  return encodeEnvelope(1, opts.revision ?? state.turnCount, encodeV1(state));
}
