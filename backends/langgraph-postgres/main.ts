/** `node --import tsx backends/langgraph-postgres/main.ts --store-url postgres://postgres@127.0.0.1:5432/postgres` */
import { changesOnly, runAdapterMain } from '../shared/launcher.ts';
import { createLanggraphPostgresAdapter } from './adapter.ts';

await runAdapterMain('langgraph-postgres', 'postgres://postgres@127.0.0.1:5432/postgres', (o) =>
  createLanggraphPostgresAdapter({ storeUrl: o.storeUrl, log: changesOnly((l) => process.stderr.write(`langgraph-postgres: ${l}\n`)) }),
);
