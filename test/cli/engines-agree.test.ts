/**
 * `stateproof run` with the built-in engine and with real k6 print the same progress line (shape,
 * rate: about one plain line per 5 s plus the end, the planned length, the active fault) and the
 * same verdict lines, thresholds on submetrics included. Through the real binary, on a short
 * script with a fault plan. The k6 half runs where a k6 binary is found (STATEPROOF_K6, or k6 on
 * PATH), as the live test in test/engine/k6-json.test.ts does.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findK6 } from '../../src/engine/k6run/run.ts';
import { cli } from '../helpers/cli.ts';

const k6 = findK6(process.env.STATEPROOF_K6);
if (!k6) console.log('skipping the real-k6 half of engines-agree: no k6 on PATH (set STATEPROOF_K6 to a k6 binary to run it)');

let dir: string;
let script: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-engines-'));
  script = path.join(dir, 'engines-agree.ts');
  // 8 s of steady reads and appends; a 5 ms latency fault on the instance's link to Redis from 1 s to 7 s, so
  // the fault is active when the 5 s progress line is printed.
  await writeFile(
    script,
    `import { steadyIteration } from ${JSON.stringify(path.resolve('scenarios/lib/steady-traffic.ts'))};
export const stateproof = {
  name: 'engines-agree',
  summary: 'steady reads under a small latency fault',
  guards: 'breaker',
  topology: { instances: 1 },
  plan: { faults: [{ id: 'slow-link', at: '1s', duration: '6s', target: 'redis-i1', fault: { type: 'latency', attributes: { latency: 5 } } }] },
  invariants: ['no-store-5xx', 'degradation-flagged', 'no-lost-writes'],
};
export const options = {
  scenarios: { reads: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '8s', preAllocatedVUs: 5, maxVUs: 20 } },
  thresholds: { 'http_req_failed{op:read}': ['rate<0.5'], http_req_duration: ['p(99)<5000'] },
};
export default async function () {
  await steadyIteration({ prefix: 'ea-', sessions: 5, readEvery: 2, minBytes: 40, spreadBytes: 40 });
}
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PROGRESS = /^\S*engines-agree\.ts {2}(\d+)s\/(\d+)s +(\d+) req\/s {2}p99 [\d.]+ ms {2}errors \d+ {2}anomalies \d+ {2}iterations \d+( {2}dropped \d+)?( {2}fault: [\w-, ]+)?$/;

async function runWith(engine: 'builtin' | 'k6') {
  const out = path.join(dir, engine);
  const r = await cli(['run', script, '--engine', engine, ...(engine === 'k6' ? ['--k6', k6!] : []), '--out', out], { timeoutMs: 120_000 });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const progress = r.stderr.split('\n').filter((l) => l.includes('engines-agree.ts  '));
  const verdict = r.stdout.split('\n').filter((l) => !/^ {2}(report|\d+ operations)/.test(l) && l.trim());
  const [runDir] = await readdir(out);
  const result = JSON.parse(await readFile(path.join(out, runDir!, 'result.json'), 'utf8'));
  return { progress, verdict, result, stdout: r.stdout };
}

function expectProgress(lines: string[]) {
  // One plain line every 5 s and one at the end: never several a second.
  expect(lines.length, lines.join('\n')).toBeGreaterThanOrEqual(2);
  expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(4);
  for (const l of lines) expect(l).toMatch(PROGRESS);
  const parsed = lines.map((l) => PROGRESS.exec(l)!);
  for (const m of parsed) expect(Number(m[2])).toBe(8); // the planned length, from the script's options
  expect(parsed.some((m) => Number(m[3]) > 0)).toBe(true);
  expect(lines.some((l) => l.endsWith('fault: slow-link'))).toBe(true);
}

/** Every verdict line, with the counts in the evidence and the observed p99 left free. */
function expectVerdict(lines: string[]) {
  expect(lines.map((l) => l.replace(/\(\d[\d,]* (answers|acknowledged writes in \d+ sessions)\)/, '(N)').replace(/observed [\d.]+\)/, 'observed X)'))).toEqual([
    'PASS  engines-agree (ci, reference)',
    '  ok      no-store-5xx  (N)',
    '  ok      degradation-flagged  (N)',
    '  ok      no-lost-writes  (N)',
    // In the script's order, in both engines.
    '  ok    threshold http_req_failed{op:read} rate<0.5 (observed X)',
    '  ok    threshold http_req_duration p(99)<5000 (observed X)',
  ]);
}

describe('the built-in engine and real k6 print the same progress and verdict lines', () => {
  it('built-in engine', async () => {
    const b = await runWith('builtin');
    expectProgress(b.progress);
    expectVerdict(b.verdict);
  });

  it.skipIf(!k6)('real k6: the same lines, thresholds as k6 judged them', async () => {
    const k = await runWith('k6');
    expectProgress(k.progress);
    expect(k.result.scenario.engine).toBe('k6');
    expectVerdict(k.verdict);
  });
});
