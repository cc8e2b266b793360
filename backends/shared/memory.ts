/**
 * What an adapter does for the contract server: map one contract call onto its library's own calls.
 * The adapter maps; the library decides — so nothing here retries, locks, caches or dedupes.
 */

/** The library's own namespace for one tenant's session (thread id prefix, resourceId…). */
export interface SessionRef {
  tenant: string;
  sessionId: string;
}

export interface TurnInput {
  turnId: string;
  content: string;
  /** The deterministic assistant reply (no model, no network). */
  reply: string;
}

export interface StoredTurn {
  turnId: string;
  user: string;
  assistant: string;
}

export interface AppendOutcome {
  /** false only where the library itself recognised the turn as already stored. */
  applied: boolean;
  /** Turns the library holds for the session after the write, counted from what it returned. */
  turnCount: number;
}

export interface SessionView {
  /** The library's read path of the thread, paired into turns, oldest first. */
  turns: StoredTurn[];
  /** Every turn the library holds (more than `turns` where its read returns a window). */
  turnCount: number;
  /** Size of what the library returned for the thread, as JSON. */
  bytes: number;
}

export interface MemoryAdapter {
  /** Library names and versions, for /healthz and the profile. */
  readonly versions: Record<string, string>;
  append(ref: SessionRef, turn: TurnInput): Promise<AppendOutcome>;
  /** undefined: the library has no such thread for this tenant. */
  read(ref: SessionRef): Promise<SessionView | undefined>;
  /** false: there was nothing to delete. */
  remove(ref: SessionRef): Promise<boolean>;
  /** Whether the library's store client is connected right now (for /readyz); never throws. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** The reply each adapter stores: deterministic, so a replay carries the same text. */
export function replyFor(content: string): string {
  return `Noted (${content.length} chars).`;
}

/**
 * Message ids the adapters give the library, so a read can be paired back into contract turns
 * (and, where the library dedupes by id, so the turnId is its idempotency key).
 */
export const userMessageId = (turnId: string): string => `${turnId}:user`;
export const assistantMessageId = (turnId: string): string => `${turnId}:assistant`;

export interface PlainMessage {
  id: string | undefined;
  role: 'user' | 'assistant' | 'other';
  text: string;
}

/**
 * Pairs a library's messages (oldest first) into turns: a user message and the assistant message
 * with the same turnId. Messages the library lost half of, reordered or duplicated are kept as the
 * library returned them — a duplicate shows as the turnId twice, which is what the checkers look for.
 */
export function pairTurns(messages: readonly PlainMessage[]): StoredTurn[] {
  const turns: StoredTurn[] = [];
  const open = new Map<string, StoredTurn>();
  for (const m of messages) {
    const turnId = turnIdOf(m.id);
    if (turnId === undefined) continue;
    if (m.role === 'user') {
      const t = { turnId, user: m.text, assistant: '' };
      turns.push(t);
      open.set(turnId, t);
    } else if (m.role === 'assistant') {
      const t = open.get(turnId);
      if (t && t.assistant === '') t.assistant = m.text;
      else turns.push({ turnId, user: '', assistant: m.text });
    }
  }
  return turns;
}

function turnIdOf(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const m = /^(.*):(user|assistant)$/.exec(id);
  return m ? m[1] : undefined;
}

export function countUserMessages(messages: readonly PlainMessage[]): number {
  let n = 0;
  for (const m of messages) if (m.role === 'user') n++;
  return n;
}
