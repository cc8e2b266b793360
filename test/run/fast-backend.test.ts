/**
 * The crash of issue 18 as a test: a correct backend that answers as fast as it can (in-memory,
 * in-process) under cross-instance, through --target. The history grows to many times what the
 * ci profile makes against the reference service, sessions grow long, and every read's Elle line
 * carries its whole list; the run must still end with a verdict and its reports, not a stack trace.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/run-scenario.ts';
import { startContractBackend, type ContractBackend } from '../helpers/contract-backend.ts';

let backend: ContractBackend;
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-fast-'));
  backend = await startContractBackend({ windowTurns: 10 });
});
afterAll(async () => {
  await backend?.close();
  await rm(outDir, { recursive: true, force: true });
});

describe('a fast, correct backend', () => {
  it('under cross-instance ends with a verdict and every report, however long its sessions grow', async () => {
    const lines: string[] = [];
    // A budget far below what this history exports, so the test does not depend on how fast the machine is.
    const elleMaxBytes = 4 * 2 ** 20;
    const o = await runScenario({ scenario: 'cross-instance', target: backend.url, outDir, elleMaxBytes, log: (l) => lines.push(l) });
    expect(o.result.verdict.exitCode).toBeTypeOf('number');
    const entries = o.result.historyEntries;
    expect(entries).toBeGreaterThan(0);
    for (const f of ['result.json', 'index.html', 'summary.md', 'junit.xml', 'history.json', 'history.edn']) expect((await stat(path.join(o.runDir, f))).size).toBeGreaterThan(0);
    // A correct backend: every invariant that could be checked holds (the witnesses it gives no access to are listed as unchecked).
    expect(o.result.invariants.filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`)).toEqual([]);
    expect(o.exitCode).toBe(0);
    const edn = await stat(path.join(o.runDir, 'history.edn'));
    expect(edn.size).toBeLessThanOrEqual(elleMaxBytes);
    expect(lines.some((l) => /history\.edn holds the first \d+ of \d+ Elle events/.test(l))).toBe(true);
    const history = JSON.parse(await readFile(path.join(o.runDir, 'history.json'), 'utf8')) as unknown[];
    expect(history).toHaveLength(entries);
    console.log(`fast backend: ${entries} operations, ${backend.answered} requests answered; ${lines.filter((l) => l.includes('history.edn')).join(' ')}`);
  }, 180_000);
});
