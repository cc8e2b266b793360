/**
 * Where a library's violation is reproduced without the harness: invariant → test file under
 * test/backends/repro/ and the test that shows it, per adapter. Only reproductions that exist
 * are listed (a test checks every file and test name); a violation with no entry here is shown
 * without a link, which says that no reproduction has been written for it yet.
 */
export interface Repro {
  /** Repository-relative path. */
  file: string;
  /** The `it(...)` title in that file that shows it. */
  test: string;
}

const LANGCHAIN = 'test/backends/repro/langchain-redis-histories.test.ts';
const LANGGRAPH_LINK = 'test/backends/repro/langgraph-postgres-store-link.test.ts';
const LANGGRAPH_LINK_CUT = "with the store link cut, invoke rejects with the driver's connection error";
const REPLAY_TWICE = 'a replayed message id is stored twice';
const STALL_NO_TIMEOUT = 'against a stalled server both wait with no timeout, then answer when it resumes';
const LINK_CUT = "with the link to Redis cut, node-redis's history rejects addMessage at once ('Socket already opened') while ioredis's holds it until the link is back";
const IOREDIS_DOWN = 'with the server down, calls queue offline and fail only after 20 reconnect attempts';
const MASTRA_RUNS = 'test/backends/repro/mastra-pg-concurrent-runs.test.ts';
const MASTRA_LINK = 'test/backends/repro/mastra-pg-store-link.test.ts';

export const REPROS: Readonly<Record<string, Readonly<Record<string, Repro>>>> = {
  'langchain-redis-history': {
    'no-duplicates': { file: LANGCHAIN, test: REPLAY_TWICE },
    'fault-p99-within-budget': { file: LANGCHAIN, test: STALL_NO_TIMEOUT },
    // The rejection the adapter answers as a bare 500, as a client sees it through a cut link.
    'no-store-5xx': { file: LANGCHAIN, test: LINK_CUT },
  },
  'langchain-ioredis-history': {
    'no-duplicates': { file: LANGCHAIN, test: REPLAY_TWICE },
    // A cut link holds every call until ioredis reconnects: the measured ~5 s of a 5 s cut.
    'fault-p99-within-budget': { file: LANGCHAIN, test: LINK_CUT },
    // Past its 20 retries (~10 s) the queued call rejects, and the adapter answers a bare 500.
    'no-store-5xx': { file: LANGCHAIN, test: IOREDIS_DOWN },
  },
  'langgraph-postgres': {
    'no-lost-writes': { file: 'test/backends/repro/langgraph-postgres-concurrent-invokes.test.ts', test: 'two concurrent invokes on one thread both return their turn, the thread keeps one' },
    // One mechanism, two cells: invoke rejects while the store is unreachable, so the answer is a bare 500 without a degraded flag.
    'no-store-5xx': { file: LANGGRAPH_LINK, test: LANGGRAPH_LINK_CUT },
    'degradation-flagged': { file: LANGGRAPH_LINK, test: LANGGRAPH_LINK_CUT },
  },
  'mastra-postgres': {
    'no-lost-writes': { file: MASTRA_LINK, test: 'a run whose store link is cut while the model answers resolves normally, and its turn is not stored' },
    'no-duplicates': { file: MASTRA_RUNS, test: 'two runs replaying one user message id at once, on two stores, store the user message once and the reply twice' },
    'no-store-5xx': { file: MASTRA_LINK, test: 'with the store link cut, a run rejects at once with the storage error MASTRA_STORAGE_PG_STORE_GET_THREAD_BY_ID_FAILED' },
  },
};

/** What a library's violation without a reproduction is shown with, in every rendering. */
export const UNREPRODUCED = 'not yet reproduced without the harness: measured here, not a confirmed finding of the library';

export function reproFor(backend: string, invariant: string): Repro | undefined {
  return REPROS[backend]?.[invariant];
}
