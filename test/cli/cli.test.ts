/**
 * The front door as a new user meets it: help, typos in flags and config keys, a missing
 * redis-server. Runs the real binary; real runs are in test/scenarios/cli-run.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stateproof CLI', () => {
  it('lists its commands, and each command has --help with examples', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['run', 'suite', 'up', 'proxy', 'k6', 'report', 'compare', 'capacity']) expect(top.stdout).toContain(`  ${c}`);
    for (const c of ['run', 'suite']) {
      const h = await cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Examples:/);
      expect(h.stdout).toContain('store-outage');
    }
  });

  it('names an unknown command, flag, scenario or value, with exit code 2 and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['rn'], /unknown command 'rn'.*run/s],
      [['run', 'store-outag'], /unknown scenario 'store-outag'.*store-outage/s],
      [['run', 'long-session', '--profil', 'ci'], /--profil/],
      [['run', 'long-session', '--unsafe', 'brekaer'], /--unsafe: unknown value 'brekaer'; allowed: breaker, bounds, cas, migrations, observability/],
      [['run', 'long-session', '--router', 'sticki'], /unknown value 'sticki'.*sticky/],
      [['run', 'long-session', '--instances', 'three'], /--instances must be an integer/],
      [['suite', '--only', 'nope'], /--only: unknown scenario 'nope'/],
      [['run', 'long-session', '--target', 'http://127.0.0.1:9', '--unsafe', 'cas'], /--unsafe shape the embedded topology; with --target the backend is yours/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('names an unknown or bad key in stateproof.config.json', async () => {
    const cwd = path.join(dir, 'config');
    await rm(cwd, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(cwd, { recursive: true }));
    await writeFile(path.join(cwd, 'stateproof.config.json'), JSON.stringify({ profil: 'ci' }));
    const unknown = await cli(['run', 'long-session'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/stateproof\.config\.json: unknown key 'profil'\. Allowed keys: profile,/);
    await writeFile(path.join(cwd, 'stateproof.config.json'), JSON.stringify({ router: 'nearest' }));
    const bad = await cli(['run', 'long-session'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'router' must be one of sticky, round-robin, random; got "nearest"/);
  });

  it('says how to install redis-server when it is missing (exit 3)', async () => {
    const r = await cli(['run', 'long-session', '--out', dir], { env: { STATEPROOF_REDIS_SERVER: '/nonexistent/redis-server' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/redis-server/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
