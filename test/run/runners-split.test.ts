/**
 * Same result split or not: one seeded scenario run end to end (history, checkers, reports)
 * against a fast in-process contract backend, once in one process and once on 3 runners. The
 * request counts per operation and per latency series, the merged HDR totals and every
 * invariant's verdict must be the same; the 3-runner report says there were 3 and what each did.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type RunOutcome } from '../../src/run/run-scenario.ts';
import { startContractBackend, type ContractBackend } from '../helpers/contract-backend.ts';

const LIB = path.resolve('scenarios/lib');
/** Every VU owns its sessions (so the verdicts do not depend on how VUs interleave) and its seeded turns. */
const SCENARIO = `import exec from 'k6/execution';
import { appendTurn, readSession } from ${JSON.stringify(`${LIB}/session-ops.ts`)};
import { flushHistory } from ${JSON.stringify(`${LIB}/history.ts`)};
import { message, seeded } from ${JSON.stringify(`${LIB}/spec.ts`)};
export const stateproof = {
  name: 'split-check',
  summary: 'per-VU sessions, appends and strong reads',
  guards: 'cas',
  topology: { instances: 1 },
  plan: { faults: [] },
  invariants: ['no-lost-writes', 'no-duplicates', 'read-your-writes', 'monotonic-reads', 'revision-per-turn'],
  check: { windowTurns: 10 },
};
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 6, iterations: 8 } } };
export default async function () {
  const vu = exec.vu.idInTest;
  const i = exec.vu.iterationInScenario;
  const rand = seeded(vu * 1000 + i);
  const session = __ENV.RUN + '-' + vu + '-' + (i % 2);
  await appendTurn(session, 't-' + vu + '-' + i, message(rand, 40));
  if (rand() < 0.5) await readSession(session, 'strong');
  await flushHistory();
}
`;

let backend: ContractBackend;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-split-'));
  backend = await startContractBackend({ windowTurns: 10 });
});
afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

const series = (o: RunOutcome) => Object.fromEntries(o.result.latency.histograms.map((h) => [`${h.op} ${h.kind} ${h.phase} ${h.instance}`, h.count]));
const anomalies = (o: RunOutcome) => o.result.invariants.flatMap((i) => i.anomalies.slice(0, 2).map((a) => `${i.name}: ${a.message}`));
const verdicts = (o: RunOutcome) => o.result.invariants.map((i) => [i.name, i.status ?? (i.holds ? 'held' : 'violated')]);

describe('a scenario split across runners', () => {
  it('gives the same counts per series, HDR totals and invariant verdicts on 1 and on 3 runners', { timeout: 180_000 }, async () => {
    const { writeFile } = await import('node:fs/promises');
    const script = path.join(dir, 'split-check.ts');
    await writeFile(script, SCENARIO);
    const outcomes: RunOutcome[] = [];
    // Each run on its own sessions (the backend keeps the first run's).
    for (const runners of [undefined, 3]) {
      outcomes.push(await runScenario({ scenario: script, target: backend.url, outDir: dir, skipPreflight: true, env: { RUN: `r${runners ?? 1}` }, log: () => {}, ...(runners ? { runners } : {}) }));
    }
    const [one, three] = outcomes as [RunOutcome, RunOutcome];
    expect(one.result.metrics.totals.count).toBeGreaterThan(48);
    expect(three.result.metrics.byOp).toEqual(one.result.metrics.byOp);
    expect(three.result.metrics.totals.count).toBe(one.result.metrics.totals.count);
    expect(Object.keys(series(one)).length).toBeGreaterThan(2);
    expect(series(three)).toEqual(series(one));
    expect(anomalies(three)).toEqual([]);
    expect(verdicts(three)).toEqual(verdicts(one));
    expect(verdicts(one).every(([, v]) => v === 'held')).toBe(true);
    expect(three.exitCode).toBe(0);
    expect(one.result.runners).toBeUndefined();
    const r = three.result.runners!;
    expect(r.count).toBe(3);
    expect(r.runners.map((x) => [x.id, x.segment, x.status])).toEqual([
      ['runner-1', '0:1/3', 'done'],
      ['runner-2', '1/3:2/3', 'done'],
      ['runner-3', '2/3:1', 'done'],
    ]);
    expect(r.runners.reduce((a, x) => a + x.iterations!, 0)).toBe(48);
    expect(r.runners.reduce((a, x) => a + x.entries, 0)).toBe(three.result.historyEntries);
    const md = await readFile(path.join(three.runDir, 'summary.md'), 'utf8');
    expect(md).toMatch(/## Runners\n\n3 runners split the load by execution segment, all finished and merged; the sink applied \d+ entries/);
    expect(md).toMatch(/\| runner-2 \| 1\/3:2\/3 \| done \| \d+ \| 16 \|/);
    const html = await readFile(path.join(three.runDir, 'index.html'), 'utf8');
    expect(html).toContain('<section id="runners"><h2>Runners</h2>');
  });
});
