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
import { makeResult } from './fixture.ts';
import { writeFile } from 'node:fs/promises';

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
});
