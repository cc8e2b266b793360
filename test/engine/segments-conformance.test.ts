/**
 * Execution segments against real k6: each fixture in fixtures/segments/ run by the built-in
 * engine with k6's --execution-segment / --execution-segment-sequence must start the same
 * iterations (count and exec.scenario.iterationInTest values), on the same VUs
 * (exec.vu.idInTest; vus_max in the summary), with the same arrivals per second, as real k6
 * v1.3.0 did.
 *
 * The expected values in fixtures/segments/expected-k6-v1.3.0.json were recorded from k6 v1.3.0
 * built from source (grafana/k6 tag v1.3.0), by fixtures/segments/record.ts, which runs
 * `k6 run -q --console-output FILE --summary-export FILE [flags] FIXTURE` for every case.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { legacySummaryExport, runScript } from '../../src/engine/index.ts';
import { CASES, condense, parseMarks, pick, runLabel, type Outcome } from './fixtures/segments/cases.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'segments');
const EXPECTED = JSON.parse(readFileSync(path.join(DIR, 'expected-k6-v1.3.0.json'), 'utf8')) as Record<string, Record<string, Partial<Outcome>>>;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('execution segments: the built-in engine does what real k6 v1.3.0 did', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const logged: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        logged.push(String(chunk));
        return true;
      });
      // The runs of one case go concurrently (they mostly wait); __ENV.RUN tells their marks apart.
      const results = await Promise.all(
        c.runs.map(async (r, i) => {
          const res = await runScript({
            scriptPath: path.join(DIR, c.script),
            env: { RUN: String(i) },
            ...(r.segment !== undefined ? { executionSegment: r.segment } : {}),
            ...(r.sequence !== undefined ? { executionSegmentSequence: r.sequence } : {}),
          });
          return { exitCode: res.exitCode, vusMax: (legacySummaryExport(res.summary) as { metrics: { vus_max?: { max: number } } }).metrics.vus_max?.max ?? 0 };
        }),
      );
      vi.restoreAllMocks();
      const marks = parseMarks(logged.join(''));
      const got = Object.fromEntries(
        c.runs.map((r, i) => [runLabel(r), pick(condense(marks.filter((m) => m.r === String(i)), results[i]!.exitCode, results[i]!.vusMax), c.compare)]),
      );
      expect(got).toEqual(EXPECTED[name]);
    }, 30_000);
  }
});

describe('execution segment flags', () => {
  it("a bad segment is a usage error with k6's message", async () => {
    await expect(runScript({ scriptPath: path.join(DIR, 'no-work.js'), executionSegment: '2/3:1/3' })).rejects.toThrow(
      '--execution-segment: segment start(0.67) must be less than its end(0.33)',
    );
    await expect(runScript({ scriptPath: path.join(DIR, 'no-work.js'), executionSegmentSequence: '0,1/2,1/3' })).rejects.toThrow(
      '--execution-segment-sequence: segment start(0.50) must be less than its end(0.33)',
    );
    await expect(runScript({ scriptPath: path.join(DIR, 'no-work.js'), executionSegment: '0:1/2', executionSegmentSequence: '0,1/3,2/3,1' })).rejects.toThrow(
      "couldn't find segment 0:1/2 in sequence 0,1/3,2/3,1",
    );
  });

  it("takes the script's options.executionSegment and options.executionSegmentSequence, the flags winning, as k6 v1.3.0 does (22 and 14 iterations there too)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'segment-options-'));
    try {
      const script = path.join(dir, 'options.js');
      writeFileSync(
        script,
        `export const options = { executionSegment: '0:1/3', executionSegmentSequence: '0,1/3,2/3,1', scenarios: { s: { executor: 'shared-iterations', vus: 7, iterations: 50 } } };
export default function () {}`,
      );
      const iterations = async (extra: Record<string, string>) => (await runScript({ scriptPath: script, ...extra })).metrics.iterations?.values.count;
      expect(await iterations({})).toBe(22);
      expect(await iterations({ executionSegment: '2/3:1' })).toBe(14);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
