/**
 * @mastra/memory on @mastra/pg (Mastra 0.x: 1.x needs Node >= 22.13), with semantic recall and
 * working memory off and lastMessages = 2 × the window (Mastra counts messages; a turn is two).
 * The calls are the ones Mastra's Agent makes around a run, without the model:
 *
 *   append: memory.getThreadById ─► (none) memory.createThread({threadId, resourceId = tenant})
 *           ─► memory.rememberMessages (the history the agent would load)
 *           ─► memory.saveMessages([user(id), assistant(id)], format v2)   one pg transaction, ON CONFLICT (id) DO UPDATE
 *   read:   memory.rememberMessages({threadId, resourceId})  ─► the last lastMessages messages
 *           + storage.getMessagesPaginated(...).total         ─► turnCount (Mastra counts messages)
 *
 * Mastra's message ids are global primary keys (not per thread), so the adapter namespaces them by
 * thread: `<threadId>:<turnId>:user`. Upserting by that id is Mastra's dedupe of a replay.
 */
import { Memory } from '@mastra/memory';
import { PostgresStore } from '@mastra/pg';
import { assistantMessageId, countUserMessages, pairTurns, userMessageId, type AppendOutcome, type MemoryAdapter, type PlainMessage, type SessionRef, type SessionView, type TurnInput } from '../shared/memory.ts';
import { installedVersions } from '../shared/versions.ts';

export const LIBRARIES = ['@mastra/core', '@mastra/memory', '@mastra/pg'] as const;

export interface MastraPostgresOptions {
  storeUrl: string;
  windowTurns: number;
  log?: (line: string) => void;
}

/** Thread ids are global in Mastra; the tenant is both the id prefix and the resourceId. */
export const threadId = (ref: SessionRef): string => `${ref.tenant}:${ref.sessionId}`;

type V2Message = Parameters<Memory['saveMessages']>[0]['messages'][number];
interface StoredV2 {
  id: string;
  role: string;
  content: { content?: string; parts?: Array<{ type: string; text?: string }> };
}

function v2(id: string, role: 'user' | 'assistant', text: string, ref: SessionRef, createdAt: Date): V2Message {
  return { id, role, content: { format: 2, parts: [{ type: 'text', text }], content: text }, createdAt, threadId: threadId(ref), resourceId: ref.tenant, type: 'v2' } as V2Message;
}

export function mastraMemoryAdapter(memory: Memory, storage: Pick<PostgresStore, 'getMessagesPaginated'>, extra: { ready: () => Promise<boolean>; close: () => Promise<void>; versions: Record<string, string> }): MemoryAdapter {
  const prefix = (ref: SessionRef) => `${threadId(ref)}:`;
  const toPlain = (ref: SessionRef, m: StoredV2): PlainMessage => ({
    id: m.id.startsWith(prefix(ref)) ? m.id.slice(prefix(ref).length) : undefined,
    role: m.role === 'user' ? 'user' : m.role === 'assistant' ? 'assistant' : 'other',
    text: m.content?.content ?? (m.content?.parts ?? []).map((p) => p.text ?? '').join(''),
  });
  const totalMessages = async (ref: SessionRef) =>
    (await storage.getMessagesPaginated({ threadId: threadId(ref), format: 'v2', selectBy: { pagination: { page: 0, perPage: 1 } } })).total;

  return {
    versions: extra.versions,
    async append(ref: SessionRef, turn: TurnInput): Promise<AppendOutcome> {
      const id = threadId(ref);
      const thread = await memory.getThreadById({ threadId: id });
      if (!thread) await memory.createThread({ threadId: id, resourceId: ref.tenant });
      // The history the agent would load for the model; the adapter only needs its cost and timing.
      await memory.rememberMessages({ threadId: id, resourceId: ref.tenant });
      const before = await totalMessages(ref);
      const now = Date.now();
      await memory.saveMessages({
        messages: [
          v2(prefix(ref) + userMessageId(turn.turnId), 'user', turn.content, ref, new Date(now)),
          v2(prefix(ref) + assistantMessageId(turn.turnId), 'assistant', turn.reply, ref, new Date(now + 1)),
        ],
        format: 'v2',
      });
      // Mastra upserts by id: a replay leaves the count as it was. Applied is read off the library's own count.
      const after = await totalMessages(ref);
      return { applied: after > before, turnCount: Math.ceil(after / 2) };
    },
    async read(ref: SessionRef): Promise<SessionView | undefined> {
      const id = threadId(ref);
      const thread = await memory.getThreadById({ threadId: id });
      if (!thread || thread.resourceId !== ref.tenant) return undefined;
      const { messagesV2 } = await memory.rememberMessages({ threadId: id, resourceId: ref.tenant });
      const messages = (messagesV2 as unknown as StoredV2[]).map((m) => toPlain(ref, m));
      const total = await totalMessages(ref);
      return { turns: pairTurns(messages), turnCount: Math.max(countUserMessages(messages), Math.ceil(total / 2)), bytes: Buffer.byteLength(JSON.stringify(messagesV2)) };
    },
    async remove(ref: SessionRef): Promise<boolean> {
      const thread = await memory.getThreadById({ threadId: threadId(ref) });
      if (!thread || thread.resourceId !== ref.tenant) return false;
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
  const memory = new Memory({
    storage,
    options: { lastMessages: 2 * opts.windowTurns, semanticRecall: false, workingMemory: { enabled: false }, threads: { generateTitle: false } },
  });
  return mastraMemoryAdapter(memory, storage, {
    ready: async () => {
      try {
        await storage.db.one('SELECT 1 AS ok');
        return true;
      } catch {
        return false;
      }
    },
    close: () => storage.close(),
    versions: installedVersions(LIBRARIES),
  });
}
