/**
 * Opens the rendered report in headless Chromium (Debian's /usr/bin/chromium via playwright-core):
 * the charts and tables must be there with this run's numbers, the page must log no errors and
 * make no network requests, and a screenshot is saved under the run directory.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResults } from '../../src/report/compare.ts';
import { renderCompareHtml } from '../../src/report/compare-render.ts';
import { decodeSnapshot, percentilesMs } from '../../src/record/hdr.ts';
import { findSnapshot } from '../../src/report/snapshots.ts';
import { fmtInt, fmtMs } from '../../src/report/format.ts';
import { writeSuiteReport } from '../../src/report/suite.ts';
import { writeReports } from '../../src/report/write.ts';
import { faultImpacts } from '../../src/report/derive/fault-impact.ts';
import { latencyFromHistory, metricsFromHistory } from '../../src/report/derive/from-history.ts';
import { verdictOf } from '../../src/report/build.ts';
import type { RunResult, TimelineEntry } from '../../src/report/result-schema.ts';
import { makeResult, T0 } from './fixture.ts';
import { readFile, writeFile } from 'node:fs/promises';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Generated output lives under reports/ (git-ignored); the screenshot stays for a human to look at.
const OUT = path.resolve('reports/test-report-page');

let browser: Browser;

beforeAll(async () => {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});
afterAll(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  problems: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems };
}

describe('index.html in Chromium', () => {
  it('shows the verdict, invariants, charts and tables with the run numbers, without errors', async () => {
    const { result } = makeResult({ failing: true, runId: 'store-outage-page' });
    const runDir = path.join(OUT, result.runId);
    await writeReports(result, runDir);
    const { page, problems } = await open(path.join(runDir, 'index.html'));
    try {
      // Verdict first.
      const firstSection = await page.locator('section').first().getAttribute('id');
      expect(firstSection).toBe('verdict');
      expect(await page.locator('#verdict .badge-big').textContent()).toBe('FAIL');
      expect(await page.locator('#verdict').textContent()).toContain('no-lost-writes');
      expect(await page.locator('#key-figures').textContent()).toContain(fmtInt(result.metrics.totals.count));
      // A failing run's errors are not "expected": the invariants did not judge them harmless.
      expect(await page.locator('#key-figures').textContent()).not.toContain('expected under faults');

      // Invariants with each anomaly's proving ops, linked to the proving-ops table.
      const anomaly = result.invariants[0]!.anomalies[0]!;
      const inv = (await page.locator('#invariants-table').textContent()) ?? '';
      for (const i of result.invariants) expect(inv).toContain(i.name);
      for (const op of anomaly.ops) {
        expect(inv).toContain(`#${op}`);
        expect(await page.locator(`#op-${op}`).count()).toBe(1);
      }
      expect(await page.locator('#proving-ops tbody tr').count()).toBe(result.provingOps.length);

      // Timeline charts with fault windows shaded, one line per percentile.
      for (const id of ['chart-throughput', 'chart-errors', 'chart-latency']) {
        expect(await page.locator(`#${id} svg path`).count(), id).toBeGreaterThan(0);
        expect(await page.locator(`#${id} svg rect`).count(), id).toBe(result.timeline.length);
      }
      expect(await page.locator('#chart-latency svg path').count()).toBe(4);
      expect(await page.locator('#chart-throughput .band-label').allTextContents()).toEqual(result.timeline.map((t) => t.id));

      // Percentile spectra: one chart per operation, one line per phase plus service time.
      const spectra = page.locator('figure.spectrum');
      expect(await spectra.count()).toBe(3);
      expect(await spectra.first().locator('svg path').count()).toBe(1 + 2 * result.timeline.length + 1);
      expect(await spectra.first().locator('svg').textContent()).toContain('99.9%');

      // Percentile table carries the histogram's own numbers.
      const all = percentilesMs(decodeSnapshot(findSnapshot(result.latency.histograms, {})!.snapshot));
      const firstRow = (await page.locator('#percentiles tbody tr').first().textContent()) ?? '';
      expect(firstRow).toContain(fmtMs(all.p99Ms));
      expect(firstRow).toContain(fmtMs(all.maxMs));

      // Blast radius, state health, capacity, thresholds.
      expect(await page.locator('#blast-radius tbody tr').count()).toBe(result.faults.length);
      expect(await page.locator('#blast-radius').textContent()).toContain(fmtInt(result.faults[0]!.ops));
      expect(await page.locator('#state-health svg').count()).toBe(2);
      expect(await page.locator('#breaker rect').count()).toBeGreaterThan(result.stateHealth!.breaker.length - 1);
      expect(await page.locator('#capacity').textContent()).toContain('KiB');
      expect(await page.locator('#thresholds-table tbody tr').count()).toBe(result.thresholds.length);
      expect(await page.locator('body').textContent()).not.toContain('hunter2');

      const shot = path.join(runDir, 'screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(50_000);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('suite and compare pages open without errors', async () => {
    const a = makeResult({ seed: 21, runId: 'suite-a', durationSec: 20, withFaults: false }).result;
    const b = makeResult({ seed: 22, runId: 'suite-b', durationSec: 20, withFaults: false, extraLatencyMs: 50 }).result;
    await writeSuiteReport([a, b], OUT);
    await writeFile(path.join(OUT, 'compare.html'), renderCompareHtml(compareResults([a, b])));
    for (const f of ['index.html', 'compare.html']) {
      const { page, problems } = await open(path.join(OUT, f));
      try {
        expect(await page.locator('.badge-big').textContent()).toMatch(f === 'index.html' ? /PASS/ : /REGRESSION/);
        expect(await page.locator('table').count()).toBeGreaterThan(0);
        await page.screenshot({ path: path.join(OUT, f.replace('.html', '.png')), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    }
  });

  it('a store-outage-shaped run: distinct spectrum colours for 11 phases, readable size axis, 503s said to be refusals', async () => {
    const { result, runDir } = await fiveFaultRun();
    const { page, problems } = await open(path.join(runDir, 'index.html'));
    try {
      // Every series of every spectrum has its own colour: before, during and after each of 5 faults, service time.
      const spectra = page.locator('figure.spectrum');
      expect(await spectra.count()).toBe(3);
      for (let i = 0; i < 3; i++) {
        const colours = await spectra.nth(i).locator('.legend i').evaluateAll((els) => els.map((e) => (e as unknown as { style: { getPropertyValue(n: string): string } }).style.getPropertyValue('--c')));
        expect(colours.length).toBe(1 + 2 * 5 + 1);
        expect(new Set(colours).size, colours.join(' ')).toBe(colours.length);
      }
      // The 14 bucket labels of "State size on save" do not overlap one another. Labels may be
      // rotated, so each pair is compared in the first one's own (rotated) frame, where both are
      // axis-aligned rectangles.
      const overlaps = await page.locator('#state-health figure.panel').first().locator('svg text.tick').evaluateAll((els) => {
        // Structural types: the test's tsconfig has no DOM library.
        type M = { a: number; b: number; c: number; d: number; e: number; f: number; inverse(): M; multiply(o: M): M };
        type Label = { textContent: string | null; getBBox(): { x: number; y: number; width: number; height: number }; getCTM(): M };
        const labels = (els as unknown as Label[]).filter((e) => /B$/.test(e.textContent ?? ''));
        const found: string[] = [];
        for (let i = 1; i < labels.length; i++) {
          const a = labels[i - 1]!;
          const b = labels[i]!;
          const ba = a.getBBox();
          const bb = b.getBBox();
          const m = a.getCTM().inverse().multiply(b.getCTM());
          const corners = [
            [bb.x, bb.y],
            [bb.x + bb.width, bb.y],
            [bb.x, bb.y + bb.height],
            [bb.x + bb.width, bb.y + bb.height],
          ].map(([x, y]) => ({ x: m.a * x! + m.c * y! + m.e, y: m.b * x! + m.d * y! + m.f }));
          const [minX, maxX] = [Math.min(...corners.map((c) => c.x)), Math.max(...corners.map((c) => c.x))];
          const [minY, maxY] = [Math.min(...corners.map((c) => c.y)), Math.max(...corners.map((c) => c.y))];
          const ox = Math.min(ba.x + ba.width, maxX) - Math.max(ba.x, minX);
          const oy = Math.min(ba.y + ba.height, maxY) - Math.max(ba.y, minY);
          if (ox > 0.5 && oy > 0.5) found.push(`${a.textContent} overlaps ${b.textContent}`);
        }
        return { count: labels.length, found };
      });
      expect(overlaps.count).toBe(14);
      expect(overlaps.found).toEqual([]);
      // The headline says why a passing run has errors, and which of them were refusals.
      const refused = result.metrics.byStatus['503']!;
      expect(refused).toBeGreaterThan(0);
      const errorTile = (await page.locator('#key-figures .tile', { hasText: 'Error rate' }).textContent()) ?? '';
      expect(errorTile).toContain(`expected under faults: ${fmtInt(refused)} refused as 503`);
      const other = result.metrics.totals.fail + result.metrics.totals.unknown - refused;
      expect(errorTile).toContain(`${fmtInt(other)} with no answer or another error`);
      // Blast radius: a Refused (503) column, and what a refusal means.
      const blast = page.locator('#blast-radius');
      expect(await blast.locator('th').allTextContents()).toContain('Refused (503)');
      const refusedCells = await blast.locator('tbody tr td:nth-child(5)').allTextContents();
      expect(refusedCells).toEqual(result.faults.map((f) => fmtInt(f.refused!)));
      expect(await page.locator('#faults').textContent()).toContain('may or may not have applied');
      expect(await page.locator('#details').textContent()).toContain(`${fmtInt(refused)} refused (503): not made durable, may or may not have applied`);
      await page.screenshot({ path: path.join(runDir, 'screenshot.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a run without faults calls its one phase "whole run", on the page and in summary.md', async () => {
    const { result } = makeResult({ seed: 5, runId: 'no-faults', durationSec: 20, withFaults: false });
    const runDir = path.join(OUT, result.runId);
    await writeReports(result, runDir);
    const { page, problems } = await open(path.join(runDir, 'index.html'));
    try {
      const phases = await page.locator('#percentiles tbody tr td:nth-child(2)').allTextContents();
      expect(new Set(phases)).toEqual(new Set(['whole run']));
      const legend = await page.locator('figure.spectrum').first().locator('.legend').textContent();
      expect(legend).toContain('whole run');
      expect(await page.locator('#latency').textContent()).not.toMatch(/\bbefore\b/);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
    const md = await readFile(path.join(runDir, 'summary.md'), 'utf8');
    expect(md).toMatch(/\| whole run \|/);
    expect(md).not.toMatch(/\| before \|/);
  });
});

/** The fixture's history under a five-fault plan (store-outage's shape) with the reference service's 14 size buckets. */
async function fiveFaultRun(): Promise<{ result: RunResult; runDir: string }> {
  const { result: base, history } = makeResult({ seed: 9, runId: 'five-faults' });
  const timeline: TimelineEntry[] = ['link-down', 'latency-800ms', 'reset-peer', 'writes-paused', 'oom'].map((id, i) => {
    const start = T0 + 4_000 + i * 11_000;
    return { id, target: 'redis-i1', fault: { type: 'down' }, plannedStartMs: start, plannedEndMs: start + 6_000, actualStartMs: start + 5, actualEndMs: start + 6_005, verified: true };
  });
  const metrics = metricsFromHistory(history, { startedAtMs: base.startedAtMs, endedAtMs: base.endedAtMs });
  const bounds = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 51200, 65536, 131072, 262144, 1048576];
  const buckets = [...bounds.map((le, i) => ({ le, count: Math.min(1402, 100 * (i + 1)) })), { le: '+Inf' as const, count: 1402 }];
  const invariants = base.invariants;
  const result: RunResult = {
    ...base,
    timeline,
    metrics,
    latency: { unit: 'us', histograms: latencyFromHistory(history, timeline) },
    faults: faultImpacts(history, timeline, metrics, base.startedAtMs),
    stateHealth: { ...base.stateHealth!, sizeBytes: { buckets, sum: 2_150_000, count: 1402 } },
    verdict: verdictOf({ invariants, thresholds: base.thresholds }),
  };
  const runDir = path.join(OUT, result.runId);
  await writeReports(result, runDir);
  return { result, runDir };
}
