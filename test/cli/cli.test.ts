/**
 * The front door as a new user meets it: help, typos in flags and config keys, a missing
 * redis-server. Runs the real binary; real runs are in test/scenarios/cli-run.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
    for (const c of ['list', 'run', 'suite', 'up', 'proxy', 'k6', 'report', 'compare', 'capacity']) expect(top.stdout).toContain(`  ${c}`);
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

  it('help examples show report directories in the shape runs make them', async () => {
    for (const c of ['run', 'suite', 'report']) {
      const h = await cli([c, '--help']);
      // A real id, e.g. 20261201T220002Z-store-outage-rbql or suite-20261201T220002Z, or a <placeholder>.
      for (const dir of h.stdout.match(/reports\/[^\s/]+/g) ?? []) expect(dir, `${c} --help`).toMatch(/^reports\/(\d{8}T\d{6}Z-[a-z0-9-]+-[a-z0-9]{4}|suite-(\d{8}T\d{6}Z|<stamp>)|<run-id>)$/);
    }
  });

  it('list: every scenario with its summary, the safeguard it guards, faults and invariants', async () => {
    const r = await cli(['list']);
    expect(r.code, r.stderr).toBe(0);
    for (const [name, guards] of [['store-outage', 'breaker'], ['long-session', 'bounds'], ['cross-instance', 'cas'], ['migration', 'migrations'], ['failover', 'breaker'], ['cluster-failover', 'slot-aware'], ['resharding', 'slot-aware']]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +guards ${guards}: fails with --unsafe ${guards}$`, 'm'));
    }
    expect(r.stdout).toContain('Redis down, slow, resetting');
    expect(r.stdout).toMatch(/faults: link-down \(down\), latency-800ms \(latency\)/);
    const json = await cli(['list', '--json']);
    const all = JSON.parse(json.stdout) as Array<{ name: string; summary: string; guards: string; invariants: string[] }>;
    expect(all.map((s) => s.name)).toEqual(['store-outage', 'long-session', 'cross-instance', 'migration', 'failover', 'cluster-failover', 'resharding']);
    expect(all[0]!.invariants).toContain('no-lost-writes');
    expect(all.every((s) => s.summary.length > 20)).toBe(true);
  });

  it('--invariants names an invariant the scenario lacks, with did-you-mean, before anything starts', async () => {
    const r = await cli(['run', 'long-session', '--invariants', 'no-lost-writes,no-lost-write', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--invariants: 'no-lost-write' is not one of long-session's invariants\. Did you mean 'no-lost-writes'\? Its invariants: bytes-within-cap,/);
    expect(r.stderr).not.toMatch(/starting redis-server/);
  });

  it('a real run: --invariants judges a subset, --json prints only JSON on stdout, -q drops progress, paths print as given', async () => {
    const cwd = path.join(dir, 'tiny');
    await mkdir(cwd, { recursive: true });
    const lib = (f: string) => JSON.stringify(path.resolve('scenarios/lib', f));
    // 'made-up-invariant' has no checker, so the full run fails on it: judging the other two must pass.
    await writeFile(
      path.join(cwd, 'tiny.ts'),
      `import exec from 'k6/execution';
import { appendTurn, readSession } from ${lib('session-ops.ts')};
import { flushHistory } from ${lib('history.ts')};
export const stateproof = { name: 'tiny', summary: 'appends and reads', guards: 'cas', topology: { instances: 1 }, plan: { faults: [] }, invariants: ['no-lost-writes', 'no-duplicates', 'made-up-invariant'] };
export const options = { scenarios: { load: { executor: 'constant-vus', vus: 1, duration: '2s' } } };
export default async function () {
  const i = exec.scenario.iterationInTest;
  await appendTurn('s1', 't' + i, 'hello');
  await readSession('s1', 'strong');
  await flushHistory();
}
`,
    );
    const absOut = path.join(cwd, 'abs-out');
    const subset = await cli(['run', 'tiny.ts', '--invariants', 'no-lost-writes,no-duplicates', '--json', '-q', '--out', absOut], { cwd });
    expect(subset.code, subset.stderr).toBe(0);
    const v = JSON.parse(subset.stdout);
    expect(v).toMatchObject({ verdict: 'pass', exitCode: 0, scenario: 'tiny', reasons: [], notChecked: ['made-up-invariant'] });
    expect(v.invariants).toEqual([
      { name: 'no-lost-writes', holds: true, anomalies: 0 },
      { name: 'no-duplicates', holds: true, anomalies: 0 },
    ]);
    expect(v.runId).toMatch(/^\d{8}T\d{6}Z-tiny-[a-z0-9]{4}$/);
    expect(v.report.html).toBe(path.join(absOut, v.runId, 'index.html'));
    // The reports say what the terminal says: two invariants, a pass.
    const result = JSON.parse(await readFile(v.report.result, 'utf8'));
    expect(result.invariants.map((i: { name: string }) => i.name)).toEqual(['no-lost-writes', 'no-duplicates']);
    expect(result.verdict).toMatchObject({ pass: true, exitCode: 0 });
    expect(await readFile(path.join(absOut, v.runId, 'junit.xml'), 'utf8')).not.toContain('made-up-invariant');
    // -q: no progress line; the verdict lines went to stderr, the report path absolute as --out was.
    expect(subset.stderr).not.toMatch(/req\/s/);
    expect(subset.stderr).toContain(`report: ${v.report.html}`);

    const full = await cli(['run', 'tiny.ts', '--out', 'rel-out'], { cwd });
    expect(full.code).toBe(1);
    expect(full.stdout).toMatch(/^FAIL {2}tiny/m);
    expect(full.stdout).toMatch(/FAIL +made-up-invariant: 1 anomaly/);
    expect(full.stderr).toMatch(/req\/s/);
    const shown = /report: (.+)/.exec(full.stdout)![1]!;
    expect(shown).toMatch(/^rel-out\/\d{8}T\d{6}Z-tiny-[a-z0-9]{4}\/index\.html$/);
    expect(existsSync(path.join(cwd, shown))).toBe(true);
  });
});
