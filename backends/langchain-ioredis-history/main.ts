/** `node --import tsx backends/langchain-ioredis-history/main.ts --store-url redis://127.0.0.1:6379` */
import { changesOnly, runAdapterMain } from '../shared/launcher.ts';
import { createLangchainIoredisAdapter } from './adapter.ts';

await runAdapterMain('langchain-ioredis-history', 'redis://127.0.0.1:6379', (o) =>
  createLangchainIoredisAdapter({ storeUrl: o.storeUrl, log: changesOnly((l) => process.stderr.write(`langchain-ioredis-history: ${l}\n`)) }),
);
