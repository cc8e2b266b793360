/**
 * @langchain/redis RedisChatMessageHistory (node-redis 4): the naive baseline. One history object
 * per request, all sharing one client through the library's own connection pool (it pools by the
 * config object, so the adapter passes the same object every time, as a long-lived app would).
 */
import { RedisChatMessageHistory } from '@langchain/redis';
import { listHistoryAdapter } from '../shared/list-history.ts';
import type { MemoryAdapter } from '../shared/memory.ts';
import { installedVersions } from '../shared/versions.ts';

export const LIBRARIES = ['@langchain/redis', '@langchain/core', 'redis'] as const;

export interface LangchainRedisOptions {
  storeUrl: string;
  log?: (line: string) => void;
}

export async function createLangchainRedisAdapter(opts: LangchainRedisOptions): Promise<MemoryAdapter> {
  const config = { url: opts.storeUrl };
  const history = (sessionId: string) => new RedisChatMessageHistory({ sessionId, config });
  const first = history('stateproof:connect');
  const client = first.client;
  // node-redis emits 'error' on every failed reconnect; without a listener Node would exit.
  client.on('error', (e: Error) => opts.log?.(`redis client: ${e.message}`));
  // The library connects lazily in ensureReadiness(); called once here so a bad URL fails at start.
  await first.ensureReadiness();
  return listHistoryAdapter({
    history,
    ready: () => client.isReady,
    close: async () => {
      if (client.isOpen) await client.disconnect();
    },
    versions: installedVersions(LIBRARIES),
  });
}
