import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as reportCmd } from '../../src/cli/commands/report.ts';
import { histogramFromHgrm } from '../../src/report/hgrm.ts';
import { decodeSnapshot } from '../../src/record/hdr.ts';
import { writeSuiteReport } from '../../src/report/suite.ts';
import { hgrmFileName, writeJsonArray, writeReports } from '../../src/report/write.ts';
import { makeResult } from './fixture.ts';

let dir: string;
const quiet = () => {
  const w = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return () => void (process.stdout.write = w);
};

async function listFiles(d: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listFiles(path.join(d, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeReports', () => {
  it('writes every output, and `report` regenerates them byte for byte from result.json alone', async () => {
    const { result, history } = makeResult({ failing: true });
    const runDir = path.join(dir, 'run');
    await writeReports(result, runDir, { history });
    const files = await listFiles(runDir);
    expect(files).toEqual(expect.arrayContaining(['index.html', 'summary.md', 'junit.xml', 'result.json', 'history.json', 'latency/all.all.all.corrected.hgrm']));
    // Only result.json (and history) go to a fresh directory; everything else is re-rendered from it.
    const fresh = path.join(dir, 'fresh');
    const again = path.join(dir, 'again');
    await writeReports(JSON.parse(await readFile(path.join(runDir, 'result.json'), 'utf8')), fresh);
    const restore = quiet();
    try {
      expect(await reportCmd([fresh, '--out', again])).toBe(0);
    } finally {
      restore();
    }
    for (const f of files.filter((f) => f !== 'history.json')) {
      const a = await readFile(path.join(runDir, f));
      expect(a.equals(await readFile(path.join(again, f))), f).toBe(true);
    }
  });

  it('writes .hgrm files that parse back to the result histograms', async () => {
    const { result } = makeResult({ seed: 3 });
    const runDir = path.join(dir, 'hgrm');
    await writeReports(result, runDir);
    for (const s of result.latency.histograms.filter((h) => h.op === 'all' && h.instance === 'all')) {
      const back = histogramFromHgrm(await readFile(path.join(runDir, 'latency', hgrmFileName(s)), 'utf8'));
      const orig = decodeSnapshot(s.snapshot);
      expect(back.totalCount).toBe(orig.totalCount);
      for (const p of [50, 90, 99]) {
        // Within one HDR bucket (3 significant digits): the .hgrm rows are bucket upper bounds.
        expect(Math.abs(back.getValueAtPercentile(p) - orig.getValueAtPercentile(p))).toBeLessThanOrEqual(orig.getValueAtPercentile(p) * 0.02 + 1);
      }
    }
  });

  it('removes stale .hgrm files from an earlier render', async () => {
    const { result } = makeResult({ seed: 4, durationSec: 10, withFaults: false });
    const runDir = path.join(dir, 'stale');
    await writeReports(result, runDir);
    await writeFile(path.join(runDir, 'latency', 'old.hgrm'), 'x');
    await writeReports(result, runDir);
    expect(await readdir(path.join(runDir, 'latency'))).not.toContain('old.hgrm');
  });
});

describe('history.json', () => {
  it('is written in chunks with the bytes JSON.stringify would give, from any iterable', async () => {
    const items: unknown[] = [];
    for (let i = 0; i < 30_000; i++) items.push({ id: i, op: 'read', turnIds: [`t"${i}`, `t${i + 1}`], note: i % 7 === 0 ? undefined : 'x'.repeat(i % 50) });
    items.push(undefined, null, 'é');
    const file = path.join(dir, 'chunked.json');
    await writeJsonArray(file, items);
    expect(await readFile(file, 'utf8')).toBe(JSON.stringify(items) + '\n');
    await writeJsonArray(file, new Set<unknown>());
    expect(await readFile(file, 'utf8')).toBe('[]\n');
  });
});

describe('junit.xml', () => {
  it('is valid JUnit XML with one testcase per invariant and threshold, failures carrying the anomaly', async () => {
    const { result } = makeResult({ failing: true });
    const runDir = path.join(dir, 'junit');
    await writeReports(result, runDir);
    const xml = await readFile(path.join(runDir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(xml);
    const suites = doc.testsuites.testsuite;
    expect(suites).toHaveLength(1);
    const cases = suites[0].testcase as Array<Record<string, any>>;
    expect(cases).toHaveLength(result.invariants.length + result.thresholds.length);
    expect(Number(doc.testsuites['@_tests'])).toBe(cases.length);
    expect(Number(doc.testsuites['@_failures'])).toBe(1);
    const failed = cases.filter((c) => c.failure);
    expect(failed.map((c) => c['@_name'])).toEqual(['no-lost-writes']);
    const anomaly = result.invariants[0]!.anomalies[0]!;
    expect(failed[0]!.failure['#text']).toContain(anomaly.message);
    expect(failed[0]!.failure['#text']).toContain(`#${anomaly.ops[0]}`);
    expect(suites[0]['@_name']).toBe('store-outage');
  });

  it('suite junit has one testsuite per scenario; the suite page links each run', async () => {
    const a = makeResult({ seed: 1, durationSec: 10, withFaults: false, runId: 'run-a' }).result;
    const b = makeResult({ seed: 2, durationSec: 10, withFaults: false, failing: true, runId: 'run-b' }).result;
    const suiteDir = path.join(dir, 'suite');
    await writeSuiteReport([a, { ...b, scenario: { ...b.scenario, name: 'long-session' } }], suiteDir);
    const xml = await readFile(path.join(suiteDir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (n) => n === 'testsuite' }).parse(xml);
    expect(doc.testsuites.testsuite.map((s: Record<string, string>) => s['@_name'])).toEqual(['store-outage', 'long-session']);
    const html = await readFile(path.join(suiteDir, 'index.html'), 'utf8');
    expect(html).toContain('href="run-a/index.html"');
    expect(html).toContain('href="run-b/index.html"');
    expect(await readFile(path.join(suiteDir, 'summary.md'), 'utf8')).toMatch(/1\/2 scenarios passed/);
  });
});

describe('summary.md', () => {
  it('leads with the verdict and lists invariants, phases and faults', async () => {
    const { result } = makeResult({ failing: true });
    const runDir = path.join(dir, 'md');
    await writeReports(result, runDir);
    const md = await readFile(path.join(runDir, 'summary.md'), 'utf8');
    expect(md.split('\n')[0]).toMatch(/^## ❌ FAIL — store-outage/);
    expect(md).toContain('| no-lost-writes | **violated** | 1 |');
    expect(md).toContain('| during redis-down |');
    expect(md).toContain('| redis-down | redis | verified |');
    expect(md).not.toContain('hunter2');
  });
});
