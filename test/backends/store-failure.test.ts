/**
 * A store failure reaches the client as whatever the library makes of it — a 500 problem+json is a
 * finding, reported, not hidden — and never takes the adapter process down.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLangchainIoredisAdapter } from '../../backends/langchain-ioredis-history/adapter.ts';
import { createLangchainRedisAdapter } from '../../backends/langchain-redis-history/adapter.ts';
import { createLanggraphPostgresAdapter } from '../../backends/langgraph-postgres/adapter.ts';
import { createMastraPostgresAdapter } from '../../backends/mastra-postgres/adapter.ts';
import type { MemoryAdapter } from '../../backends/shared/memory.ts';
import { startRedisServer } from '../../src/topology/redis-server.ts';
import { Client, TOKEN_A } from '../reference-service/helpers.ts';
import { serve } from './helpers/contract-smoke.ts';
import { startPostgres, type PostgresServer } from './helpers/pg.ts';

describe('store failures through the adapters', () => {
  it("langchain-redis-history: redis down → 500 internal_error carrying the library's 'Socket already opened', X-State-Mode normal; back up → 200", async () => {
    const redis = await startRedisServer();
    const http = await serve(await createLangchainRedisAdapter({ storeUrl: redis.url }));
    try {
      const a = new Client(http.url, TOKEN_A);
      expect((await a.append('s', 't1', 'x')).status).toBe(200);
      await redis.stop({ keepDir: true });
      await new Promise((r) => setTimeout(r, 200));
      const down = await a.append('s', 't2', 'y');
      expect(down.status).toBe(500);
      expect(down.headers.get('content-type')).toBe('application/problem+json');
      expect(down.headers.get('x-state-mode')).toBe('normal');
      expect(down.body.code).toBe('internal_error');
      expect(down.body.detail).toContain('Socket already opened');
      expect((await a.request('GET', '/readyz')).status).toBe(503);
      await redis.restart();
      let ok = 0;
      for (let i = 0; i < 100 && ok !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ok = (await a.append('s', 't3', 'z')).status;
      }
      expect(ok).toBe(200);
    } finally {
      await http.close();
      await redis.stop();
    }
  });

  it('langchain-ioredis-history: redis down → the request waits in the offline queue, then 500 MaxRetriesPerRequestError', { timeout: 60_000 }, async () => {
    const redis = await startRedisServer();
    const http = await serve(await createLangchainIoredisAdapter({ storeUrl: redis.url }));
    try {
      const a = new Client(http.url, TOKEN_A);
      expect((await a.append('s', 't1', 'x')).status).toBe(200);
      await redis.stop();
      const down = await a.append('s', 't2', 'y');
      expect(down.status).toBe(500);
      expect(down.body.detail).toContain('MaxRetriesPerRequestError');
      expect((await a.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  describe('on PostgreSQL', () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => {
      await server?.stop();
    });

    const cases: Array<[string, (url: string) => Promise<MemoryAdapter>]> = [
      ['langgraph-postgres', (url) => createLanggraphPostgresAdapter({ storeUrl: url })],
      ['mastra-postgres', (url) => createMastraPostgresAdapter({ storeUrl: url, windowTurns: 20 })],
    ];
    for (const [name, make] of cases) {
      it(`${name}: every backend terminated (pg_terminate_backend) → the process lives on and the next turns are all served`, async () => {
        const url = await server.createDatabase(`term_${name.replace(/-/g, '_')}`);
        const http = await serve(await make(url));
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          const a = new Client(http.url, TOKEN_A);
          expect((await a.append('s', 't1', 'x')).status).toBe(200);
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
          await new Promise((r) => setTimeout(r, 100));
                    const statuses: number[] = [];
          for (const t of ['t2', 't3', 't4']) statuses.push((await a.append('s', t, 'y')).status);
          // Measured: the idle clients' 'error' events evict them from the pool before reuse, so no request fails.
          expect(statuses).toEqual([200, 200, 200]);
          expect((await a.request('GET', '/healthz')).status).toBe(200);
        } finally {
          await admin.end();
          await http.close();
        }
      });
    }
  });
});
