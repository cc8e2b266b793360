/**
 * Mastra 0.x (@mastra/core Agent + @mastra/memory on @mastra/pg; 1.x needs Node >= 22.13). Memory
 * has semantic recall, working memory and title generation off, and lastMessages = 2 × the window
 * (Mastra counts messages; a turn is two). A turn is one Agent run with memory, as Mastra's docs
 * show; the model is AI SDK 4's MockLanguageModelV1, which answers the deterministic reply with no
 * network, so everything around it — thread creation, history recall, message ids, saving — is the
 * Agent's own:
 *
 *   append: agent.generateLegacy([user(id = <threadId>:<turnId>:user)], {memory: {thread, resource = tenant}})
 *             └ Agent: getThreadById / createThread ─► rememberMessages(lastMessages) ─► mock model ─► saveMessages
 *   read:   memory.rememberMessages({threadId, resourceId})      the last lastMessages messages
 *           + storage.getMessagesPaginated(every message)          turnCount: the user messages stored
 *
 * Message ids are global primary keys in Mastra's tables, so the user message's id is namespaced by
 * thread; upserting by it is Mastra's dedupe of a replay — of the user message only: a run that did
 * not recall it (a concurrent attempt, or an id older than lastMessages) saves a second reply. The
 * assistant message's id is the Agent's (random), so a read pairs each assistant message with the
 * user message before it.
 */
import { Agent } from '@mastra/core/agent';
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { MockLanguageModelV1 } from 'ai/test';
import { assistantMessageId, countUserMessages, pairTurns, replyFor, userMessageId, type AppendOutcome, type MemoryAdapter, type PlainMessage, type SessionRef, type SessionView, type TurnInput } from '../shared/memory.ts';
import { installedVersions } from '../shared/versions.ts';

export const LIBRARIES = ['@mastra/core', '@mastra/memory', '@mastra/pg', 'ai'] as const;

export interface MastraPostgresOptions {
  storeUrl: string;
  windowTurns: number;
  log?: (line: string) => void;
}

/** Thread ids are global in Mastra; the tenant is both the id prefix and the resourceId. */
export const threadId = (ref: SessionRef): string => `${ref.tenant}:${ref.sessionId}`;

interface StoredV2 {
  id: string;
  role: string;
  content: { content?: string; parts?: Array<{ type: string; text?: string }> };
}

type Prompt = Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;

/** A model that answers replyFor(the last user message) at once: no network, no randomness. */
export function deterministicModel(): MockLanguageModelV1 {
  return new MockLanguageModelV1({
    doGenerate: async ({ prompt }) => {
      const last = [...(prompt as Prompt)].reverse().find((m) => m.role === 'user');
      const text = typeof last?.content === 'string' ? last.content : (last?.content ?? []).map((p) => p.text ?? '').join('');
      return { rawCall: { rawPrompt: null, rawSettings: {} }, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: 0 }, text: replyFor(text) };
    },
  });
}

export function memoryOptions(windowTurns: number) {
  return { lastMessages: 2 * windowTurns, semanticRecall: false, workingMemory: { enabled: false }, threads: { generateTitle: false } } as const;
}

/** The stored messages in order, each assistant message given the turn of the user message before it. */
export function toPlain(ref: SessionRef, messages: readonly StoredV2[]): PlainMessage[] {
  const prefix = `${threadId(ref)}:`;
  let turnId: string | undefined;
  return messages.map((m) => {
    const text = m.content?.content ?? (m.content?.parts ?? []).map((p) => p.text ?? '').join('');
    if (m.role === 'user') {
      const own = m.id.startsWith(prefix) && m.id.endsWith(':user') ? m.id.slice(prefix.length, -':user'.length) : undefined;
      turnId = own;
      return { id: own === undefined ? undefined : userMessageId(own), role: 'user', text };
    }
    if (m.role === 'assistant') return { id: turnId === undefined ? undefined : assistantMessageId(turnId), role: 'assistant', text };
    return { id: undefined, role: 'other', text };
  });
}

/** One page that holds a whole thread. */
const EVERY_MESSAGE = 1_000_000_000;

export function mastraAdapter(agent: Agent, memory: Memory, storage: Pick<PostgresStore, 'getMessagesPaginated'>, extra: { ready: () => Promise<boolean>; close: () => Promise<void>; versions: Record<string, string> }): MemoryAdapter {
  // Every message through the library's own paginated read, which on a store error logs and answers
  // an empty page instead of throwing: passed on as is (that is what the library says it holds).
  const storedMessages = async (ref: SessionRef) =>
    (await storage.getMessagesPaginated({ threadId: threadId(ref), format: 'v2', selectBy: { pagination: { page: 0, perPage: EVERY_MESSAGE } } })).messages as unknown as StoredV2[];
  // A turn is its user message (upserted by id, so one per turnId); the replies the Agent saved are
  // not counted, since one turn may hold two (concurrent runs of one id each save their own).
  const turnsIn = (messages: readonly StoredV2[]) => messages.reduce((n, m) => n + (m.role === 'user' ? 1 : 0), 0);
  const owned = async (ref: SessionRef) => {
    const thread = await memory.getThreadById({ threadId: threadId(ref) });
    return thread !== null && thread.resourceId === ref.tenant;
  };

  return {
    versions: extra.versions,
    async append(ref: SessionRef, turn: TurnInput): Promise<AppendOutcome> {
      const id = `${threadId(ref)}:${userMessageId(turn.turnId)}`;
      const before = (await owned(ref)) ? await storedMessages(ref) : [];
      await agent.generateLegacy([{ id, role: 'user', content: turn.content }], {
        memory: { thread: threadId(ref), resource: ref.tenant },
      });
      // Applied: this turn's message is stored now and was not before the run. Mastra reports
      // nothing of the kind; a count of messages would also move with other writers' turns.
      const after = await storedMessages(ref);
      return { applied: !before.some((m) => m.id === id) && after.some((m) => m.id === id), turnCount: turnsIn(after) };
    },
    async read(ref: SessionRef): Promise<SessionView | undefined> {
      if (!(await owned(ref))) return undefined;
      const { messagesV2 } = await memory.rememberMessages({ threadId: threadId(ref), resourceId: ref.tenant });
      const messages = toPlain(ref, messagesV2 as unknown as StoredV2[]);
      const turnCount = turnsIn(await storedMessages(ref));
      return { turns: pairTurns(messages), turnCount: Math.max(countUserMessages(messages), turnCount), bytes: Buffer.byteLength(JSON.stringify(messagesV2)) };
    },
    async remove(ref: SessionRef): Promise<boolean> {
      if (!(await owned(ref))) return false;
      await memory.deleteThread(threadId(ref));
      return true;
    },
    ready: extra.ready,
    close: extra.close,
  };
}

export async function createMastraPostgresAdapter(opts: MastraPostgresOptions): Promise<MemoryAdapter> {
  const storage = new PostgresStore({ connectionString: opts.storeUrl });
  // Standalone (no Mastra instance), the store is initialised by hand, as its docs say.
  await storage.init();
  const memory = new Memory({ storage, options: memoryOptions(opts.windowTurns) });
  const agent = new Agent({ name: 'stateproof', instructions: 'Acknowledge the message.', model: deterministicModel(), memory });
  return mastraAdapter(agent, memory, storage, {
    ready: async () => {
      try {
        await storage.db.one('SELECT 1 AS ok');
        return true;
      } catch {
        return false;
      }
    },
    // PostgresStore.close() is pgp.end(): it ends every pg-promise pool in this process, not only its own.
    close: () => storage.close(),
    versions: installedVersions(LIBRARIES),
  });
}
