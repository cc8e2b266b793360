/** `node --import tsx backends/langchain-redis-history/main.ts --store-url redis://127.0.0.1:6379` */
import { changesOnly, runAdapterMain } from '../shared/launcher.ts';
import { createLangchainRedisAdapter } from './adapter.ts';

await runAdapterMain('langchain-redis-history', 'redis://127.0.0.1:6379', (o) =>
  createLangchainRedisAdapter({ storeUrl: o.storeUrl, log: changesOnly((l) => process.stderr.write(`langchain-redis-history: ${l}\n`)) }),
);
