/**
 * @langchain/community's ioredis RedisChatMessageHistory: the most used chat-history library whose
 * Redis store runs on Node 20 (see backends/README.md for why this one). One ioredis client per
 * process, passed as the documented `client` field: given `url` instead, the library opens a new
 * connection for every history object and never closes it.
 */
import { RedisChatMessageHistory } from '@langchain/community/stores/message/ioredis';
import { Redis } from 'ioredis';
import { listHistoryAdapter } from '../shared/list-history.ts';
import type { MemoryAdapter } from '../shared/memory.ts';
import { installedVersions } from '../shared/versions.ts';

export const LIBRARIES = ['@langchain/community', '@langchain/core', 'ioredis'] as const;

export interface LangchainIoredisOptions {
  storeUrl: string;
  log?: (line: string) => void;
}

export async function createLangchainIoredisAdapter(opts: LangchainIoredisOptions): Promise<MemoryAdapter> {
  // ioredis' defaults (offline queue, 20 retries per request) are the library's behaviour under faults.
  const client = new Redis(opts.storeUrl, { lazyConnect: true });
  // ioredis emits 'error' on failed reconnects; without a listener it only logs, but say where it came from.
  client.on('error', (e: Error) => opts.log?.(`ioredis client: ${e.message}`));
  await client.connect();
  return listHistoryAdapter({
    history: (sessionId) => new RedisChatMessageHistory({ sessionId, client }),
    ready: () => client.status === 'ready',
    close: async () => {
      client.disconnect();
    },
    versions: installedVersions(LIBRARIES),
  });
}
