/**
 * @langchain/langgraph + PostgresSaver: a MessagesAnnotation graph with one node that writes the
 * reply, compiled with the checkpointer, and one `invoke` per turn with the thread id — the
 * persistence how-to's own shape.
 *
 *   invoke({messages: [Human(id = turnId:user)]}, {thread_id}) ─► PostgresSaver.getTuple (latest checkpoint)
 *        ─► messagesStateReducer merges the input (same id = replace) ─► node "reply" returns AI(id = turnId:assistant)
 *        ─► PostgresSaver.put / putWrites (checkpoint row + channel blobs)
 *
 * The reducer replaces a message whose id is already in the thread, so a replayed turnId does not
 * append twice: that is the library's dedupe, and the only one. `applied` is false when the node
 * found its reply already in the thread (the node still returns it; the reducer decides).
 */
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { plain } from '../shared/list-history.ts';
import { assistantMessageId, countUserMessages, pairTurns, replyFor, userMessageId, type AppendOutcome, type MemoryAdapter, type SessionRef, type SessionView, type TurnInput } from '../shared/memory.ts';
import { installedVersions } from '../shared/versions.ts';

export const LIBRARIES = ['@langchain/langgraph', '@langchain/langgraph-checkpoint', '@langchain/langgraph-checkpoint-postgres', '@langchain/core', 'pg'] as const;

export interface LanggraphPostgresOptions {
  storeUrl: string;
  log?: (line: string) => void;
  /** Skip checkpointer.setup() (the tables exist already); default false. */
  skipSetup?: boolean;
}

/** The tenant is the thread id prefix: PostgresSaver keys every row by thread_id. */
export const threadId = (ref: SessionRef): string => `${ref.tenant}:${ref.sessionId}`;

/** The graph, on any checkpointer (PostgresSaver here; an in-memory saver in the bench). */
export function buildGraph(checkpointer: BaseCheckpointSaver, seen: Map<string, boolean>) {
  return new StateGraph(MessagesAnnotation)
    .addNode('reply', (state, config) => {
      const turnId = String(config.configurable?.turn_id);
      const user = state.messages.find((m) => m.id === userMessageId(turnId));
      const callId = config.configurable?.call_id;
      if (typeof callId === 'string') seen.set(callId, state.messages.some((m) => m.id === assistantMessageId(turnId)));
      return { messages: [new AIMessage({ content: replyFor(textOf(user)), id: assistantMessageId(turnId) })] };
    })
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer });
}

function textOf(m: BaseMessage | undefined): string {
  if (!m) return '';
  return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
}

let calls = 0;

export function graphAdapter(graph: ReturnType<typeof buildGraph>, seen: Map<string, boolean>, extra: { deleteThread: (id: string) => Promise<void>; ready: () => Promise<boolean>; close: () => Promise<void>; versions: Record<string, string> }): MemoryAdapter {
  return {
    versions: extra.versions,
    async append(ref: SessionRef, turn: TurnInput): Promise<AppendOutcome> {
      const callId = `${process.pid}:${++calls}`;
      try {
        const out = await graph.invoke(
          { messages: [new HumanMessage({ content: turn.content, id: userMessageId(turn.turnId) })] },
          { configurable: { thread_id: threadId(ref), turn_id: turn.turnId, call_id: callId } },
        );
        return { applied: seen.get(callId) !== true, turnCount: countUserMessages(out.messages.map(plain)) };
      } finally {
        seen.delete(callId);
      }
    },
    async read(ref: SessionRef): Promise<SessionView | undefined> {
      const snapshot = await graph.getState({ configurable: { thread_id: threadId(ref) } });
      const messages = (snapshot.values as { messages?: BaseMessage[] }).messages;
      if (!messages || messages.length === 0) return undefined;
      const p = messages.map(plain);
      return { turns: pairTurns(p), turnCount: countUserMessages(p), bytes: Buffer.byteLength(JSON.stringify(messages.map((m) => m.toDict()))) };
    },
    async remove(ref: SessionRef): Promise<boolean> {
      const snapshot = await graph.getState({ configurable: { thread_id: threadId(ref) } });
      if (snapshot.config.configurable?.checkpoint_id === undefined) return false;
      await extra.deleteThread(threadId(ref));
      return true;
    },
    ready: extra.ready,
    close: extra.close,
  };
}

export async function createLanggraphPostgresAdapter(opts: LanggraphPostgresOptions): Promise<MemoryAdapter> {
  const pool = new pg.Pool({ connectionString: opts.storeUrl });
  // pg emits 'error' on an idle client whose connection dies; without a listener Node exits.
  pool.on('error', (e) => opts.log?.(`pg pool: ${e.message}`));
  const checkpointer = new PostgresSaver(pool);
  try {
    if (!opts.skipSetup) await checkpointer.setup();
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  const seen = new Map<string, boolean>();
  return graphAdapter(buildGraph(checkpointer, seen), seen, {
    deleteThread: (id) => checkpointer.deleteThread(id),
    ready: async () => {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
    versions: installedVersions(LIBRARIES),
  });
}
