/**
 * A real PostgreSQL 15 for one test file: a temp dir owned by the `postgres` system user (initdb
 * refuses root), initdb and postgres run through `runuser -u postgres --`, listening on an
 * ephemeral 127.0.0.1 port with its unix socket in the temp dir. Fast start for tests: fsync,
 * full_page_writes and synchronous_commit are off (a crash may lose data; no test here crashes it).
 * stop() ends the postmaster by its pid (from postmaster.pid) and removes the dir.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../../src/topology/ports.ts';

const run = promisify(execFile);
export const PG_BIN = process.env.STATEPROOF_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The server's version string, e.g. "15.14". */
  readonly version: string;
  stop(): Promise<void>;
  /** A new database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
}

export function postgresAvailable(): boolean {
  return existsSync(path.join(PG_BIN, 'initdb')) && existsSync(path.join(PG_BIN, 'postgres'));
}

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no `postgres` system user on this machine (Debian: apt-get install -y postgresql-15)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export async function startPostgres(opts: { readyTimeoutMs?: number } = {}): Promise<PostgresServer> {
  const { uid, gid } = postgresUid();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stateproof-pg-'));
  chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const asPostgres = (bin: string, args: string[]) => ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args];
  let child: ChildProcess | undefined;
  try {
    await run('runuser', asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']));
    const port = await freePort();
    const log: string[] = [];
    child = spawn(
      'runuser',
      asPostgres('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=200']),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (c: Buffer) => log.push(...c.toString().split('\n').filter(Boolean)));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const version = await waitReady(url, opts.readyTimeoutMs ?? 20_000, child, log);
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= waitForNoClients(url).then(() => stopServer(data, dir, child!)));
    return {
      url,
      port,
      dir,
      version,
      stop,
      [Symbol.asyncDispose]: stop,
      async createDatabase(name: string) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
        } finally {
          await c.end();
        }
        return url.replace(/\/postgres$/, `/${name}`);
      },
    };
  } catch (e) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function waitReady(url: string, timeoutMs: number, child: ChildProcess, log: string[]): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode} before it was ready:\n${log.slice(-10).join('\n')}`);
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      const r = await c.query<{ server_version: string }>('SHOW server_version');
      return r.rows[0]!.server_version;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await c.end().catch(() => {});
    }
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms:\n${log.slice(-10).join('\n')}`);
}

/**
 * Pools that were just ended may still be saying goodbye; a shutdown now would send them FATAL
 * 57P01, which pg reports as an 'error' event after their pool stopped listening. Bounded: 5 s.
 */
async function waitForNoClients(url: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    while (Date.now() < deadline) {
      const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
      if (Number(r.rows[0]!.n) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch {
    /* the server is gone or refusing: nothing to wait for */
  } finally {
    await c.end().catch(() => {});
  }
}

/** SIGINT to the postmaster is PostgreSQL's fast shutdown; SIGKILL if it is still there after 10 s. */
async function stopServer(data: string, dir: string, child: ChildProcess): Promise<void> {
  const pidFile = path.join(data, 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
  const exited = child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));
  if (pid) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      /* already gone */
    }
  }
  const timer = setTimeout(() => {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    child.kill('SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });
}
