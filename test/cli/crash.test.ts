/**
 * A harness crash is exit 4 with one line naming a crash log, never exit 1 (a failed verdict) and
 * never a stack trace on the terminal. Driven through the real binary, for each way a bug escapes:
 * thrown from a command, thrown later from a callback, and a rejected promise nobody awaited.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

let logDir: string;
beforeAll(async () => {
  logDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-crash-'));
});
afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
});

describe('a crash of stateproof itself', () => {
  for (const how of ['throw', 'uncaught', 'unhandled']) {
    it(`(${how}) exits 4 with one line that names the log holding the stack`, async () => {
      const dir = path.join(logDir, how);
      const r = await cli(['report', path.join(logDir, 'no-such-run')], { env: { STATEPROOF_SELFTEST_CRASH: how, STATEPROOF_LOG_DIR: dir } });
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^stateproof: internal error, stateproof itself failed \(exit 4; this is not a verdict on the backend\): TypeError: self-test crash/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const logs = await readdir(dir);
      expect(logs).toHaveLength(1);
      expect(r.stderr).toContain(path.join(dir, logs[0]!));
      const log = await readFile(path.join(dir, logs[0]!), 'utf8');
      expect(log).toContain(`command: stateproof report ${path.join(logDir, 'no-such-run')}`);
      expect(log).toMatch(/TypeError: self-test crash[^\n]*\n\s+at /);
    });
  }

  it('a user error keeps its own exit code: a missing run directory is not a crash', async () => {
    const r = await cli(['report', path.join(logDir, 'no-such-run')]);
    expect([2, 3]).toContain(r.code);
    expect(r.stderr).not.toContain('internal error');
  });
});
