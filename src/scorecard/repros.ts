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
const REPLAY_TWICE = 'a replayed message id is stored twice';
const STALL_NO_TIMEOUT = 'against a stalled server both wait with no timeout, then answer when it resumes';

export const REPROS: Readonly<Record<string, Readonly<Record<string, Repro>>>> = {
  'langchain-redis-history': {
    'no-duplicates': { file: LANGCHAIN, test: REPLAY_TWICE },
    'fault-p99-within-budget': { file: LANGCHAIN, test: STALL_NO_TIMEOUT },
  },
  'langchain-ioredis-history': {
    'no-duplicates': { file: LANGCHAIN, test: REPLAY_TWICE },
    'fault-p99-within-budget': { file: LANGCHAIN, test: STALL_NO_TIMEOUT },
  },
  'langgraph-postgres': {
    'no-lost-writes': { file: 'test/backends/repro/langgraph-postgres-concurrent-invokes.test.ts', test: 'two concurrent invokes on one thread both return their turn, the thread keeps one' },
  },
};

/** What a library's violation without a reproduction is shown with, in every rendering. */
export const UNREPRODUCED = 'not yet reproduced without the harness: measured here, not a confirmed finding of the library';

export function reproFor(backend: string, invariant: string): Repro | undefined {
  return REPROS[backend]?.[invariant];
}
