/** --runners, --sink-listen and STATEPROOF_SINK_TOKEN: bad values end the command in one line, before anything starts. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseListen } from '../../src/cli/runner-flags.ts';
import { cli } from '../helpers/cli.ts';

const oneLine = (s: string) => s.trim().split('\n').filter((l) => l.trim() !== '');

describe('runner flags', () => {
  it.each([
    [['--runners', '0'], "--runners must be an integer from 1 to 64; got '0'"],
    [['--runners=-1'], "--runners must be an integer from 1 to 64; got '-1'"],
    [['--runners', 'abc'], "--runners must be an integer from 1 to 64; got 'abc'"],
    [['--runners', '2.5'], "--runners must be an integer from 1 to 64; got '2.5'"],
    // long-session's ci profile runs few VUs: 40 runners would leave most without any.
    [['--runners', '40'], /^--runners 40: the scenario runs at most \d+ VUs, so \d+ runners would have no VU; use --runners \d+ or fewer \(or more --vus\)$/],
    [['--sink-listen', 'nohost'], "--sink-listen must be HOST:PORT (e.g. 0.0.0.0:7070, 127.0.0.1:0, [::]:7070); got 'nohost'"],
    [['--sink-listen', '127.0.0.1:70000'], "--sink-listen must be HOST:PORT (e.g. 0.0.0.0:7070, 127.0.0.1:0, [::]:7070); got '127.0.0.1:70000'"],
  ])('run long-session %j: exit 2 and one line', { timeout: 60_000 }, async (flags, message) => {
    const r = await cli(['run', 'long-session', '-q', ...flags]);
    expect(r.code).toBe(2);
    const lines = oneLine(r.stderr);
    expect(lines).toHaveLength(1);
    if (typeof message === 'string') expect(lines[0]).toBe(`stateproof run: ${message}`);
    else expect(lines[0]!.replace(/^stateproof run: /, '')).toMatch(message);
  });

  it('suite --runners N that a scenario cannot split: exit 2 before any process starts', { timeout: 60_000 }, async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'stateproof-suite-runners-'));
    try {
      const started = Date.now();
      const r = await cli(['suite', '-q', '--runners', '40', '--out', out]);
      const tookMs = Date.now() - started;
      expect(r.code).toBe(2);
      // long-session's ci profile runs 5 VUs; the check names it and what fits.
      expect(oneLine(r.stderr)).toEqual(['stateproof suite: --runners 40: long-session runs at most 5 VUs, so 36 runners would have no VU; use --runners 4 or fewer (or more --vus); the suite runs every scenario with the same --runners (or pick scenarios with --only)']);
      // Nothing started: no topology line, no scenario header, no suite directory.
      expect(r.stderr).not.toMatch(/stateproof: starting|\[1\//);
      expect(await readdir(out)).toEqual([]);
      // Reading the scenarios' options takes a few seconds; a topology start and a scenario take far longer.
      expect(tookMs).toBeLessThan(30_000);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses a sink token that cannot travel as a bearer token', { timeout: 60_000 }, async () => {
    const r = await cli(['run', 'long-session', '-q', '--runners', '2'], { env: { STATEPROOF_SINK_TOKEN: 'short' } });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(['stateproof run: STATEPROOF_SINK_TOKEN must be 16 to 512 printable characters without spaces (it travels as a bearer token); got 5 characters']);
  });

  it('reads HOST:PORT forms', () => {
    expect(parseListen('0.0.0.0:7070')).toEqual({ host: '0.0.0.0', port: 7070 });
    expect(parseListen(':7070')).toEqual({ host: '0.0.0.0', port: 7070 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('runner-host.local:9000')).toEqual({ host: 'runner-host.local', port: 9000 });
  });
});
