/**
 * `--backend <adapter>` as a user gets it wrong, through the real binary: a typo'd name, a store
 * the library does not run on, flags that only the reference service or an external backend has,
 * a scenario that needs the reference service's internals, a store binary that is missing, and a
 * library that throws at start-up. Each is one line with the right exit code, and leaves neither
 * a run directory nor a process behind.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepStaleRuns } from '../../src/topology/cleanup.ts';
import { cli } from '../helpers/cli.ts';

let dir: string;
let out: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-backend-flag-'));
  out = path.join(dir, 'reports');
});
afterAll(async () => {
  // A harness that hung past its test's timeout would leave its stores running; its run file says which.
  sweepStaleRuns(path.join(dir, 'state'));
  await rm(dir, { recursive: true, force: true });
});

/** One line on stderr, the exit code, no stack trace, no run directory. */
async function expectOneLine(r: { code: number; stderr: string }, code: number, what: string): Promise<string> {
  expect(r.code, `${what}: ${r.stderr}`).toBe(code);
  expect(r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('stateproof: starting ')), `${what}: ${r.stderr}`).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(await readdir(out).catch(() => []), what).toEqual([]);
  return r.stderr;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('--backend: refused before anything starts', () => {
  it('an unknown name, on run, suite, up and in the config file, with the nearest name', async () => {
    for (const cmd of [['run', 'cross-instance', '--out', out], ['suite', '--out', out], ['up']]) {
      const err = await expectOneLine(await cli([...cmd, '--backend', 'langgraph-postgress']), 2, cmd[0]!);
      expect(err).toMatch(/--backend: unknown backend 'langgraph-postgress'; backends: reference, langgraph-postgres, .*Did you mean 'langgraph-postgres'\?/);
    }
    await writeFile(path.join(dir, 'stateproof.config.json'), JSON.stringify({ backend: 'mastra' }));
    const err = await expectOneLine(await cli(['run', 'cross-instance', '--out', out], { cwd: dir }), 2, 'config');
    expect(err).toMatch(/the config's 'backend': unknown backend 'mastra'.*Did you mean 'mastra-postgres'\?/);
    await rm(path.join(dir, 'stateproof.config.json'));
  });

  it('a store the library does not run on names the stores it does', async () => {
    const err = await expectOneLine(await cli(['run', 'cross-instance', '--backend', 'langgraph-postgres', '--store', 'redis', '--out', out]), 2, '--store');
    expect(err).toMatch(/--store redis: langgraph-postgres runs on postgres only/);
    const redis = await expectOneLine(await cli(['run', 'cross-instance', '--backend', 'langchain-redis-history', '--store', 'postgres', '--out', out]), 2, '--store');
    expect(redis).toMatch(/langchain-redis-history runs on redis or valkey only/);
  });

  it('--unsafe, --target and --backend-profile do not apply to an adapter', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--unsafe', 'cas'], /--unsafe switches off the reference service's safeguards; langchain-redis-history runs its library as it is/],
      [['--target', 'http://127.0.0.1:9'], /--target is a backend you run yourself; --backend langchain-redis-history starts one/],
      [['--backend-profile', 'mine.json'], /judged by the profile it ships \(.*langchain-redis-history[\\/]stateproof\.backend\.json\); drop --backend-profile/],
    ];
    for (const [flags, message] of cases) {
      expect(await expectOneLine(await cli(['run', 'cross-instance', '--backend', 'langchain-redis-history', ...flags, '--out', out]), 2, flags[0]!)).toMatch(message);
    }
    expect(await expectOneLine(await cli(['up', '--backend', 'langgraph-postgres', '--unsafe', 'cas']), 2, 'up --unsafe')).toMatch(/--unsafe shapes the reference service/);
  });

  it('migration, which needs the reference service\'s schema versions and v1 layout, says so', async () => {
    const err = await expectOneLine(await cli(['run', 'migration', '--backend', 'langchain-ioredis-history', '--out', out]), 2, 'migration');
    expect(err).toMatch(/migration needs the reference service's internals \(it seeds \d+ sessions in its v1 layout and rolls instances through its schema versions in deploy-v2, deploy-v3, rollback-i3\); langchain-ioredis-history runs its library as it is\. Run migration with --backend reference\./);
  });
});

describe('--backend: failed starts', () => {
  it('the store binary missing: exit 3 with the install line', async () => {
    const pg = await cli(['run', 'cross-instance', '--backend', 'langgraph-postgres', '--out', out], { env: { STATEPROOF_POSTGRES_BIN: path.join(dir, 'no-such-postgres') } });
    expect(await expectOneLine(pg, 3, 'no postgres')).toMatch(/no-such-postgres does not hold executable initdb and postgres\. Install PostgreSQL \(Debian\/Ubuntu: `sudo apt-get install -y postgresql`\)/);
    const valkey = await cli(['run', 'cross-instance', '--backend', 'langchain-ioredis-history', '--store', 'valkey', '--out', out], { env: { STATEPROOF_VALKEY_SERVER: path.join(dir, 'no-such-valkey') } });
    expect(await expectOneLine(valkey, 3, 'no valkey')).toMatch(/no-such-valkey is not an executable valkey-server\. Install it \(Debian\/Ubuntu: `sudo apt-get install -y -t bookworm-backports valkey-server`/);
  });

  it('a library that throws at start-up: its launcher\'s one line, exit 3, nothing left running', async () => {
    const pids = path.join(dir, 'adapter-pids');
    const preload = fileURLToPath(new URL('./fixtures/adapter-ssl-only.mjs', import.meta.url));
    const r = await cli(['run', 'cross-instance', '--backend', 'langgraph-postgres', '--out', out], {
      env: { NODE_OPTIONS: `--import ${preload}`, ADAPTER_PID_FILE: pids, STATEPROOF_STATE_DIR: path.join(dir, 'state') },
    });
    const err = await expectOneLine(r, 3, 'library throws');
    expect(err).toMatch(/^stateproof run: langgraph-postgres: the library failed at start-up against postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: The server does not support SSL connections \(instance i1\)$/m);
    const started = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    expect(started.length).toBeGreaterThan(0);
    expect(started.filter(alive)).toEqual([]);
    // The run's cleanup record is gone too: teardown finished (postgres, proxy, router included).
    expect(await readdir(path.join(dir, 'state')).catch(() => [])).toEqual([]);
  });
});
