/**
 * Each adapter's main.ts as the harness will start it: a child process that prints its URL when
 * ready, serves the contract, and stops on SIGTERM; bad flags and a store that cannot be reached
 * are one line on stderr with exit 2 and 3, never a stack trace.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { freePort } from '../../src/topology/ports.ts';
import { Client } from '../reference-service/helpers.ts';
import { startPostgres, type PostgresServer } from './helpers/pg.ts';

const MAINS = {
  'langchain-redis-history': 'redis',
  'langchain-ioredis-history': 'redis',
  'langgraph-postgres': 'postgres',
  'mastra-postgres': 'postgres',
} as const;

const mainOf = (name: string) => path.resolve(`backends/${name}/main.ts`);

function runToEnd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let redis: RedisServer;
let pg: PostgresServer;
beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedisServer(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.stop()]);
});

describe('backends/<name>/main.ts', () => {
  for (const [name, store] of Object.entries(MAINS)) {
    it(`${name}: prints its URL when ready, serves a turn with the --tokens tenant, exits 0 on SIGTERM`, async () => {
      const url = store === 'redis' ? redis.url : await pg.createDatabase(name.replace(/-/g, '_'));
      const child = spawn(process.execPath, ['--import', 'tsx', mainOf(name), '--store-url', url, '--port', '0', '--tokens', 'acme=s3cret', '--window-turns', '5'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name} printed no URL within 30 s`)), 30_000);
          createInterface({ input: child.stdout! }).once('line', (l) => {
            clearTimeout(timer);
            resolve(l);
          });
          child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
        });
        const m = new RegExp(`^${name} listening on (http://127\\.0\\.0\\.1:\\d+)$`).exec(line);
        expect(m, line).not.toBeNull();
        const c = new Client(m![1]!, 's3cret');
        expect((await c.append(`launch-${name}`, 't1', 'hi')).body).toMatchObject({ applied: true, turnCount: 1 });
        expect((await c.read(`launch-${name}`)).body.turns).toHaveLength(1);
        expect((await new Client(m![1]!, 'tenant-a-token').read(`launch-${name}`)).status).toBe(401);
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }

  it('a bad flag is one line and exit 2', async () => {
    const r = await runToEnd([mainOf('langchain-redis-history'), '--store-url', redis.url, '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('langchain-redis-history: --port must be a whole number; got "eighty"');
    const t = await runToEnd([mainOf('langgraph-postgres'), '--store-url', 'postgres://x@127.0.0.1:1/x', '--tokens', 'nobody']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--tokens: "nobody" is not tenant=token');
  });

  it('a store that cannot be reached at start-up is one line naming the library and the store, exit 3 (the Redis clients would reconnect for ever: start-up has a 10 s deadline)', { timeout: 120_000 }, async () => {
    const port = await freePort();
    await Promise.all(Object.entries(MAINS).map(async ([name, store]) => {
      const url = store === 'redis' ? `redis://127.0.0.1:${port}` : `postgres://postgres:pw@127.0.0.1:${port}/postgres`;
      const r = await runToEnd([mainOf(name), '--store-url', url]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(3);
      // The client's own connection error may come first (logged once); the verdict is the last line.
      expect(r.stderr.trim().split('\n').at(-1), name).toMatch(new RegExp(`^${name}: the library failed at start-up against `));
      expect(r.stderr).not.toContain('pw@');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }));
  });
});
