/**
 * LangChain's BaseListChatMessageHistory behind the contract, used the way LangChain's own
 * RunnableWithMessageHistory uses it: getMessages() before the model, addMessages([human, ai])
 * after. Both Redis histories (@langchain/redis on node-redis, @langchain/community on ioredis)
 * share this mapping; only the client differs.
 *
 * The library has no idempotency (messages carry our ids, but nothing dedupes by them) and no
 * window or TTL unless sessionTTL is given (it is not: the docs make it optional). A replayed turnId
 * is therefore appended again — that is the library's behaviour, reported, not repaired here.
 */
import type { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { assistantMessageId, countUserMessages, pairTurns, userMessageId, type AppendOutcome, type MemoryAdapter, type PlainMessage, type SessionRef, type SessionView, type TurnInput } from './memory.ts';

export interface ListHistoryDeps {
  /** A history object for one Redis key, built as the library's docs show. */
  history: (key: string) => BaseListChatMessageHistory;
  ready: () => boolean;
  close: () => Promise<void>;
  versions: Record<string, string>;
}

/** The tenant is the key prefix: the library keys the list by sessionId, so that is the namespace. */
export const historyKey = (ref: SessionRef): string => `stateproof:${ref.tenant}:${ref.sessionId}`;

export function listHistoryAdapter(deps: ListHistoryDeps): MemoryAdapter {
  return {
    versions: deps.versions,
    async append(ref: SessionRef, turn: TurnInput): Promise<AppendOutcome> {
      const history = deps.history(historyKey(ref));
      const before = await history.getMessages();
      await history.addMessages([
        new HumanMessage({ content: turn.content, id: userMessageId(turn.turnId) }),
        new AIMessage({ content: turn.reply, id: assistantMessageId(turn.turnId) }),
      ]);
      return { applied: true, turnCount: countUserMessages(before.map(plain)) + 1 };
    },
    async read(ref: SessionRef): Promise<SessionView | undefined> {
      const messages = await deps.history(historyKey(ref)).getMessages();
      if (messages.length === 0) return undefined;
      const plainMessages = messages.map(plain);
      return { turns: pairTurns(plainMessages), turnCount: countUserMessages(plainMessages), bytes: Buffer.byteLength(JSON.stringify(messages.map((m) => m.toDict()))) };
    },
    async remove(ref: SessionRef): Promise<boolean> {
      // clear() is DEL and does not say whether there was anything; the contract's 404 cannot be told apart.
      await deps.history(historyKey(ref)).clear();
      return true;
    },
    async ready() {
      return deps.ready();
    },
    close: deps.close,
  };
}

export function plain(m: BaseMessage): PlainMessage {
  const type = m.getType();
  return { id: m.id, role: type === 'human' ? 'user' : type === 'ai' ? 'assistant' : 'other', text: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) };
}
