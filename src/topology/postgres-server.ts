/**
 * A real PostgreSQL server on 127.0.0.1, in a temp dir of its own: initdb, then the postmaster as a
 * child process, its Unix socket in that dir and TCP on an ephemeral loopback port.
 *
 *   temp dir (owned by the server's user) ─┬─ data/          initdb's cluster (trust auth, user postgres)
 *                                          └─ .s.PGSQL.<port> the Unix socket
 *
 * initdb and postgres refuse to run as root, so under root both run as an unprivileged user (the
 * `postgres` system user Debian's package creates, or STATEPROOF_POSTGRES_USER). With `fastStart`
 * (the ci profile) fsync and full_page_writes are off: nothing is forced to disk, which loses data
 * only if the machine itself goes down, never on a crash of the server alone.
 *
 * The postmaster, any processes a stall stopped, the temp dir and the interlock shared-memory
 * segment are recorded with the cleanup registry, so a kill -9 of the harness leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EnvironmentError } from '../base/errors.ts';
import type { FaultablePostgres } from '../../chaos/pg-faults.ts';
import { freePort } from './ports.ts';

export const POSTGRES_DEFAULTS = {
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
  /** Enough for 32 instances' pools would be more; these are the topology's few plus the harness's. */
  maxConnections: 60,
  user: 'postgres',
  database: 'postgres',
} as const;

/** The settings a fast start changes; recorded in the topology so reports say so. */
export const FAST_START_SETTINGS: Readonly<Record<string, string>> = { fsync: 'off', full_page_writes: 'off' };

export interface PostgresServerOptions {
  /** fsync and full_page_writes off (the ci profile). Default true. */
  fastStart?: boolean;
  /** Extra `-c name=value` settings. */
  config?: Record<string, string>;
  readyTimeoutMs?: number;
  tracker?: {
    addProcess(name: string, pid: number): void;
    removeProcess(pid: number): void;
    addDir?(dir: string): void;
    removeDir?(dir: string): void;
    addSysvShm?(key: number, shmid: number): void;
    removeSysvShm?(shmid: number): void;
  };
}

export interface PostgresServer extends FaultablePostgres, AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth on loopback). */
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** e.g. "PostgreSQL 15.18". */
  readonly version: string;
  /** The non-default settings it runs with (fsync, full_page_writes, max_connections, …). */
  readonly settings: Readonly<Record<string, string>>;
  /** Fast shutdown (SIGINT), then the temp dir is removed. */
  stop(): Promise<void>;
  kill9(): Promise<void>;
  logTail(): string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb and postgres: STATEPROOF_POSTGRES_BIN, PATH, else Debian's newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string {
  const fromEnv = process.env.STATEPROOF_POSTGRES_BIN;
  const both = (d: string) => isExecutable(path.join(d, 'initdb')) && isExecutable(path.join(d, 'postgres'));
  if (fromEnv) {
    if (both(fromEnv)) return fromEnv;
    throw new EnvironmentError(`STATEPROOF_POSTGRES_BIN=${fromEnv} does not hold executable initdb and postgres. ${POSTGRES_INSTALL}, or point STATEPROOF_POSTGRES_BIN at the directory holding them.`);
  }
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) if (d && both(d)) return d;
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  } catch {
    /* not installed */
  }
  for (const v of versions) if (both(`/usr/lib/postgresql/${v}/bin`)) return `/usr/lib/postgresql/${v}/bin`;
  throw new EnvironmentError(
    'PostgreSQL (initdb and postgres) was not found. Install it (Debian/Ubuntu: `sudo apt-get install -y postgresql`) or set STATEPROOF_POSTGRES_BIN to the directory holding initdb and postgres.',
  );
}

const POSTGRES_INSTALL = 'Install PostgreSQL (Debian/Ubuntu: `sudo apt-get install -y postgresql`)';

/** Under root, the unprivileged user to run as (uid, gid); otherwise undefined: run as ourselves. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.STATEPROOF_POSTGRES_USER ?? POSTGRES_DEFAULTS.user;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name);
  if (!line) {
    throw new EnvironmentError(
      `PostgreSQL refuses to run as root, and there is no "${name}" user to run it as. Install Debian's postgresql package (it creates that user), set STATEPROOF_POSTGRES_USER to an unprivileged user, or run as a normal user.`,
    );
  }
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** The pids whose parent is `pid` (the postmaster's backends and auxiliary processes). */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function run(command: string, args: string[], user: ReturnType<typeof serverUser>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const c = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', LANG: 'C', LC_ALL: 'C' }, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    let output = '';
    c.stdout.on('data', (d) => (output += d));
    c.stderr.on('data', (d) => (output += d));
    c.once('error', (e) => resolve({ code: -1, output: output + e.message }));
    c.once('exit', (code) => resolve({ code, output }));
  });
}

async function queryOnce(url: string, timeoutMs: number): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  c.on('error', () => {});
  try {
    await c.connect();
    return String((await c.query('SHOW server_version')).rows[0]?.server_version ?? '');
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => {});
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A deadline that does not hold the process open once what it guards is over (a stop ends in ms, the deadline is 10 s). */
const deadline = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function startPostgresServer(opts: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = serverUser();
  const readyTimeoutMs = opts.readyTimeoutMs ?? POSTGRES_DEFAULTS.readyTimeoutMs;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-pg-'));
  opts.tracker?.addDir?.(dir);
  const data = path.join(dir, 'data');
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: String(POSTGRES_DEFAULTS.maxConnections),
    // Dynamic shared memory as files in the data dir, which goes with it, rather than in /dev/shm.
    dynamic_shared_memory_type: 'mmap',
    ...((opts.fastStart ?? true) ? FAST_START_SETTINGS : {}),
    ...opts.config,
  };
  const cleanupDir = async () => {
    await rm(dir, { recursive: true, force: true });
    opts.tracker?.removeDir?.(dir);
  };

  try {
    if (user) await chown(dir, user.uid, user.gid);
    const init = await run(path.join(bin, 'initdb'), ['-D', data, '-U', POSTGRES_DEFAULTS.user, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user);
    if (init.code !== 0) throw new EnvironmentError(`initdb failed (exit ${init.code}) in ${data}:\n${init.output.trim().split('\n').slice(-10).join('\n')}`);
  } catch (e) {
    await cleanupDir();
    throw e;
  }

  let port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log: string[] = [];
  let paused: number[] = [];
  let shm: { key: number; shmid: number } | undefined;
  let version = '';
  const url = () => `postgres://${POSTGRES_DEFAULTS.user}@127.0.0.1:${port}/${POSTGRES_DEFAULTS.database}`;

  const launch = async (): Promise<void> => {
    log = [];
    const args = ['-D', data, '-c', `port=${port}`, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    // Its own process group, as redis-server's: Ctrl-C in the terminal is the harness's to handle.
    const c = spawn(path.join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    child = c;
    let gone = false;
    exited = new Promise<void>((resolve) => {
      c.once('exit', () => {
        gone = true;
        if (c.pid) opts.tracker?.removeProcess(c.pid);
        resolve();
      });
      c.once('error', (e) => {
        log.push(`spawn failed: ${e.message}`);
        gone = true;
        resolve();
      });
    });
    if (c.pid) opts.tracker?.addProcess('postgres', c.pid);
    const keep = (chunk: Buffer) => {
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (log.length > 50) log = log.slice(-50);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (gone) throw new EnvironmentError(`postgres exited before it was ready on port ${port}. Its log:\n${log.slice(-10).join('\n')}`);
      const v = await queryOnce(url(), 1_000);
      if (v !== undefined) {
        version = `PostgreSQL ${v.split(' ')[0]}`;
        await recordShm();
        return;
      }
      await sleep(50);
    }
    await halt('SIGKILL');
    throw new EnvironmentError(`postgres did not answer on 127.0.0.1:${port} within ${readyTimeoutMs} ms. Its log:\n${log.slice(-10).join('\n')}`);
  };

  /** postmaster.pid's last line is "<shm key> <shm id>" of the interlock segment a kill -9 would leave. */
  const recordShm = async () => {
    try {
      const lines = (await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n');
      const [key, shmid] = (lines[6] ?? '').trim().split(/\s+/).map(Number);
      if (Number.isInteger(key) && Number.isInteger(shmid)) {
        shm = { key: key!, shmid: shmid! };
        opts.tracker?.addSysvShm?.(shm.key, shm.shmid);
      }
    } catch {
      /* no segment recorded: nothing to clean */
    }
  };

  const resumeAll = () => {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      if (pid !== child?.pid) opts.tracker?.removeProcess(pid);
    }
    paused = [];
  };

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  /** SIGINT = fast shutdown, SIGQUIT = immediate, SIGKILL = kill -9; escalates if the server lingers. */
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    resumeAll();
    if (!running()) return;
    const c = child!;
    for (const s of signal === 'SIGKILL' ? (['SIGKILL'] as const) : ([signal, 'SIGQUIT', 'SIGKILL'] as const)) {
      try {
        process.kill(c.pid!, s);
      } catch {
        break;
      }
      const inTime = await Promise.race([exited.then(() => true), deadline(POSTGRES_DEFAULTS.stopTimeoutMs).then(() => false)]);
      if (inTime) break;
    }
    await exited;
    // A clean exit removes the segment itself; after a kill -9 nothing does, so it is removed here.
    if (shm) {
      if (signal === 'SIGKILL') {
        const { execFile } = await import('node:child_process');
        await new Promise<void>((r) => execFile('ipcrm', ['-m', String(shm!.shmid)], () => r()));
      }
      opts.tracker?.removeSysvShm?.(shm.shmid);
      shm = undefined;
    }
  };

  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      const addrInUse = log.some((l) => l.includes('Address already in use'));
      if (!addrInUse || attempt >= 4) {
        await halt('SIGKILL');
        await cleanupDir();
        throw e;
      }
      port = await freePort();
    }
  }

  let stopped: Promise<void> | undefined;
  const handle: PostgresServer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get url() {
      return url();
    },
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    get version() {
      return version;
    },
    settings: Object.freeze({ ...settings }),
    async pause() {
      if (!running()) throw new Error('postgres is not running');
      const postmaster = child!.pid!;
      // The postmaster first, so it forks nothing new while its children are being stopped.
      process.kill(postmaster, 'SIGSTOP');
      paused = [postmaster];
      for (const pid of await childPids(postmaster)) {
        try {
          process.kill(pid, 'SIGSTOP');
          paused.push(pid);
          // A stopped backend outlives a killed postmaster: the cleanup registry must know it.
          opts.tracker?.addProcess('postgres-backend', pid);
        } catch {
          /* exited meanwhile */
        }
      }
      return [...paused];
    },
    async resume() {
      resumeAll();
    },
    async kill9() {
      await halt('SIGKILL');
    },
    async restart(o) {
      await halt(o?.hard ? 'SIGQUIT' : 'SIGINT');
      await launch();
    },
    stop() {
      stopped ??= (async () => {
        await halt('SIGINT');
        await cleanupDir();
      })();
      return stopped;
    },
    logTail: () => log.slice(-10).join('\n'),
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}
