/**
 * Real runs through the real binary, as the README tells a user to make them: a pass verdict with
 * a report, and with the breaker switched off, exit 1 naming the invariant it breaks.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

describe('stateproof run (real runs)', () => {
  it('long-session: a pass verdict and its report; with bounds off, exit 1 naming bytes-within-cap', async () => {
    const ok = await cli(['run', 'long-session', '--out', dir]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^PASS {2}long-session/m);
    const reportPath = /report: (.+index\.html)/.exec(ok.stdout)?.[1];
    expect(reportPath && existsSync(path.resolve(reportPath))).toBe(true);
    const unsafe = await cli(['run', 'long-session', '--unsafe', 'bounds', '--out', dir]);
    expect(unsafe.code).toBe(1);
    expect(unsafe.stdout).toMatch(/^FAIL {2}long-session/m);
    expect(unsafe.stdout).toMatch(/FAIL +bytes-within-cap: \d+ anomal/);
    const result = JSON.parse(await readFile(path.join(path.dirname(path.resolve(/report: (.+index\.html)/.exec(unsafe.stdout)![1]!)), 'result.json'), 'utf8'));
    expect(result.verdict.pass).toBe(false);
  });

  it('cross-instance --router sticky holds every invariant (the README example)', async () => {
    const r = await cli(['run', 'cross-instance', '--router', 'sticky', '--out', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}cross-instance/m);
    expect(r.stdout).toMatch(/ok +no-divergence/);
  });

  it('store-outage --unsafe breaker exits 1 and names no-store-5xx', async () => {
    const r = await cli(['run', 'store-outage', '--unsafe', 'breaker', '--out', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}store-outage/m);
    expect(r.stdout).toMatch(/FAIL +no-store-5xx: \d+ anomal/);
    expect(r.stdout).toMatch(/got 500 internal_error/);
  });
});
