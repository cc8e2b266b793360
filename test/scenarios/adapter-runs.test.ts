/**
 * Real runs of an adapter under `--backend`, through the real binary: the library's processes in
 * the reference service's place, on its store behind the fault proxy, with the scenario's link cut
 * on one instance. The run must be labelled by the adapter, record the library versions its profile
 * pins, judge every invariant with its evidence (or say why it does not apply), and name the
 * library's own finding: LangChain's Redis history stores a replayed turn twice, and LangGraph's
 * PostgresSaver loses one of two concurrent turns on a thread (backends/README.md, "Findings").
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterNamed } from '../../src/backend/adapters.ts';
import type { RunResult } from '../../src/report/result-schema.ts';
import { cli } from '../helpers/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-adapter-runs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** cross-instance, cut short after the split of i2 has begun (it starts at 5 s in the ci profile). */
async function crossInstance(backend: string): Promise<{ result: RunResult; summary: string; stderr: string; code: number }> {
  const r = await cli(['run', 'cross-instance', '--backend', backend, '--instances', '2', '--duration', '7s', '--json', '-q', '--out', dir], { timeoutMs: 240_000 });
  expect([0, 1], r.stderr).toContain(r.code);
  const verdict = JSON.parse(r.stdout) as { backend: string; report: { result: string; summary: string } };
  expect(verdict.backend).toBe(backend);
  return { result: JSON.parse(readFileSync(verdict.report.result, 'utf8')) as RunResult, summary: readFileSync(verdict.report.summary, 'utf8'), stderr: r.stderr, code: r.code };
}

function expectJudgedAsAdapter(run: Awaited<ReturnType<typeof crossInstance>>, backend: string, store: string, storeShown: RegExp): void {
  const { result, summary, stderr, code } = run;
  const profile = JSON.parse(readFileSync(adapterNamed(backend).profile, 'utf8')) as { versions: Record<string, string> };
  expect(result.scenario.backend).toBe(backend);
  expect(result.environment.backend).toEqual({ name: backend, versions: profile.versions });
  const [lib, version] = Object.entries(profile.versions)[0]!;
  expect(summary).toContain(`backend ${backend} (${lib} ${version}`);
  expect(result.topology.provider).toBe('local');
  expect(result.topology.description).toMatch(new RegExp(`^2 ${backend} instance\\(s\\) behind a round-robin router, ${storeShown.source}`));
  expect((result.topology.details as { store: { kind: string } }).store.kind).toBe(store);
  // The store fault was made, on the adapter's own link, as on the reference service's.
  expect(result.timeline.find((t) => t.id === 'split-brain-i2')).toMatchObject({ target: 'redis-i2', verified: true });
  expect(stderr).toMatch(new RegExp(`^(PASS|FAIL) {2}cross-instance \\(ci, ${backend}\\)$`, 'm'));
  for (const inv of result.invariants) {
    if (inv.status === 'not-applicable') expect(inv.reason, inv.name).toBeTruthy();
    else if (inv.holds) expect(inv.evidence, inv.name).toMatch(/\d/);
    else expect(inv.anomalies.length, inv.name).toBeGreaterThan(0);
  }
  for (const name of ['audit-agrees', 'store-agrees']) {
    expect(result.invariants.find((i) => i.name === name), name).toMatchObject({ status: 'not-applicable', reason: expect.stringContaining(backend) });
  }
  expect(code).toBe(result.invariants.some((i) => !i.holds) ? 1 : 0);
}

const violated = (result: RunResult, name: string) => result.invariants.find((i) => i.name === name && !i.holds);

describe('stateproof run --backend <adapter> (real runs)', () => {
  it('langchain-redis-history on Redis: a replayed turn is stored twice (no-duplicates, with its proving read)', async () => {
    const run = await crossInstance('langchain-redis-history');
    expectJudgedAsAdapter(run, 'langchain-redis-history', 'redis', /redis \d+\.\d+/);
    const dup = violated(run.result, 'no-duplicates');
    expect(dup?.anomalies[0]).toMatchObject({ message: expect.stringMatching(/shows turn \S+ twice in its window/), ops: [expect.any(Number)] });
  });

  it('langgraph-postgres on PostgreSQL: concurrent turns on one thread lose one (no-lost-writes, with the proving ops)', async () => {
    const run = await crossInstance('langgraph-postgres');
    expectJudgedAsAdapter(run, 'langgraph-postgres', 'postgres', /PostgreSQL \d+/);
    const lost = violated(run.result, 'no-lost-writes');
    expect(lost?.anomalies[0]?.message).toMatch(/acknowledged by op \d+ is missing from the later read op \d+/);
    expect(lost?.anomalies[0]?.ops.length).toBe(2);
  });
});
