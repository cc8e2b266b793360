/**
 * Bad input as a new user types it, through the real binary: a .ts config outside an ESM
 * package, typo'd flags on every command, a flag without its value, unitless durations, zero
 * VUs, and failed starts that must not leave run directories behind.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-bad-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One line on stderr, exit 2, no stack trace. */
function expectOneLineUsageError(r: { code: number; stderr: string }, what: string): string {
  expect(r.code, what).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), `${what}: ${r.stderr}`).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return r.stderr;
}

describe('a .ts config file', () => {
  it('loads from a folder with no package.json, with TypeScript syntax and a relative import', async () => {
    const cwd = path.join(dir, 'ts-config');
    await mkdir(cwd, { recursive: true });
    await writeFile(path.join(cwd, 'profile.ts'), `export const profile: 'ci' | 'full' = 'ci';\n`);
    await writeFile(path.join(cwd, 'stateproof.config.ts'), `import { profile } from './profile';\nexport default { profile, router: 'nearest' as const };\n`);
    // The config is read (its bad value is named) instead of crashing with ERR_REQUIRE_CYCLE_MODULE.
    const bad = await cli(['run', 'long-session'], { cwd });
    expect(expectOneLineUsageError(bad, 'bad key')).toMatch(/stateproof\.config\.ts: 'router' must be one of sticky, round-robin, random; got "nearest"/);
    await writeFile(path.join(cwd, 'stateproof.config.ts'), `export default { profile: "ci" }\n`);
    const good = await cli(['run', 'store-outag'], { cwd });
    expect(good.code).toBe(2);
    expect(good.stderr).toMatch(/unknown scenario 'store-outag'/);
    expect(good.stderr).not.toMatch(/ERR_REQUIRE|internal error/);
  });

  it('names the line of a syntax error and the message of a config that throws', async () => {
    const cwd = path.join(dir, 'ts-config-broken');
    await mkdir(cwd, { recursive: true });
    await writeFile(path.join(cwd, 'stateproof.config.ts'), `export default { profile: \n`);
    expect(expectOneLineUsageError(await cli(['run', 'long-session'], { cwd }), 'syntax')).toMatch(/cannot read stateproof\.config\.ts:2:0: /);
    await writeFile(path.join(cwd, 'stateproof.config.ts'), `throw new Error('no secrets here');\nexport default {};\n`);
    expect(expectOneLineUsageError(await cli(['run', 'long-session'], { cwd }), 'throws')).toMatch(/stateproof\.config\.ts threw while loading: no secrets here/);
  });
});

describe('flags', () => {
  it('names a typo\'d flag with the nearest one, on one line, for every command', async () => {
    const cases: Array<[string[], string, string]> = [
      [['run', 'long-session', '--profle', 'ci'], '--profle', '--profile'],
      [['suite', '--profle', 'ci'], '--profle', '--profile'],
      [['up', '--instancs', '2'], '--instancs', '--instances'],
      [['proxy', '--prot', '0'], '--prot', '--port'],
      [['k6', 'x.js', '--vsu', '2'], '--vsu', '--vus'],
      [['report', 'x', '--outt', 'y'], '--outt', '--out'],
      [['compare', 'a', 'b', '--fail-on-regresion'], '--fail-on-regresion', '--fail-on-regression'],
      [['capacity', 'x', '--sesions', '5'], '--sesions', '--sessions'],
    ];
    for (const [args, typo, meant] of cases) {
      const text = expectOneLineUsageError(await cli(args), args.join(' '));
      expect(text, args.join(' ')).toContain(`stateproof ${args[0]}: unknown flag '${typo}'. Did you mean '${meant}'?`);
      expect(text).toContain(`Run 'stateproof ${args[0]} --help' for its flags.`);
    }
  });

  it('says what a flag takes when its value is missing or looks like a flag', async () => {
    const ambiguous = expectOneLineUsageError(await cli(['capacity', 'x', '--sessions', '-5']), 'ambiguous');
    expect(ambiguous).toMatch(/^stateproof capacity: --sessions needs a value \(--sessions <n>: live sessions to project to.*\); '-5' looks like a flag\. To give a value that starts with '-', write --sessions=-5\.$/m);
    const missing = expectOneLineUsageError(await cli(['run', 'long-session', '--target']), 'missing');
    expect(missing).toMatch(/--target needs a value \(--target <url>: an external backend implementing the contract.*\); got none\./);
    expect(expectOneLineUsageError(await cli(['compare', 'a', 'b', '--json=yes']), 'switch')).toMatch(/--json is a switch and takes no value/);
  });

  it('suggests the scenario meant by suite --only', async () => {
    expect(expectOneLineUsageError(await cli(['suite', '--only', 'long-sesion']), '--only')).toMatch(/--only: unknown scenario 'long-sesion'.*Did you mean 'long-session'\?/);
  });
});

describe('k6 durations and VUs (as k6 reads them)', () => {
  it('refuses --duration without a unit, or of zero, and --vus 0, instead of running ~10 ms or nothing', async () => {
    const script = path.join(dir, 'noop.js');
    await writeFile(script, 'export default function () {}\n');
    expect(expectOneLineUsageError(await cli(['k6', script, '--duration', '10']), 'unitless')).toMatch(/--duration "10" has no unit: write 10s .*k6 refuses a unitless --duration too/);
    expect(expectOneLineUsageError(await cli(['k6', script, '-d', '1d']), 'days')).toMatch(/days are not a unit here.*24h/);
    expect(expectOneLineUsageError(await cli(['k6', script, '-d', '0']), 'zero')).toMatch(/--duration must be more than 0/);
    expect(expectOneLineUsageError(await cli(['k6', script, '--vus', '0']), 'vus 0')).toMatch(/--vus must be at least 1, got 0/);
    const zeroInOptions = path.join(dir, 'zero-vus.js');
    await writeFile(zeroInOptions, 'export const options = { vus: 0 };\nexport default function () {}\n');
    expect(expectOneLineUsageError(await cli(['k6', zeroInOptions]), 'options.vus 0')).toMatch(/vus must be at least 1, got 0/);
    // With a unit it runs, as k6 would.
    const ok = await cli(['k6', script, '--duration', '1s', '-q']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/iterations \.+: \d+/);
  });

  it('says so in k6 --help and run --help', async () => {
    expect((await cli(['k6', '--help'])).stdout).toMatch(/--duration 10 is refused, not run for 10 ms[\s\S]*options\.duration: 10 \(or "10"\) is 10 milliseconds[\s\S]*--vus must be at least 1/);
    expect((await cli(['run', '--help'])).stdout).toMatch(/options\.duration: 10\s+or "10" is 10 milliseconds/);
  });
});

describe('failed starts', () => {
  it('leave no run directory behind', async () => {
    const out = path.join(dir, 'reports');
    await mkdir(out, { recursive: true });
    const starts: Array<[string[], Record<string, string>, number]> = [
      [['run', 'long-session', '--target', 'ftp://x'], {}, 2],
      [['run', 'long-session', '--engine', 'k6', '--k6', path.join(dir, 'no-such-k6')], {}, 3],
      [['run', 'long-session'], { STATEPROOF_REDIS_SERVER: path.join(dir, 'no-such-redis-server') }, 3],
    ];
    for (const [args, env, code] of starts) {
      const r = await cli([...args, '--out', out], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(await readdir(out), args.join(' ')).toEqual([]);
    }
  });
});
