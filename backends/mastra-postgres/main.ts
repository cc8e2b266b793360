/** `node --import tsx backends/mastra-postgres/main.ts --store-url postgres://postgres@127.0.0.1:5432/postgres --window-turns 20` */
import { changesOnly, runAdapterMain } from '../shared/launcher.ts';
import { createMastraPostgresAdapter } from './adapter.ts';

await runAdapterMain('mastra-postgres', 'postgres://postgres@127.0.0.1:5432/postgres', (o) =>
  createMastraPostgresAdapter({ storeUrl: o.storeUrl, windowTurns: o.windowTurns, log: changesOnly((l) => process.stderr.write(`mastra-postgres: ${l}\n`)) }),
);
