/**
 * scorecard.html in headless Chromium (Debian's /usr/bin/chromium via playwright-core), built from
 * runs captured from real runs: no console errors, no network, the matrix with a cell per pair and
 * invariant, and links that reach the runs' reports and the proving operation. The screenshot goes
 * to reports/ (git-ignored) for a human to look at.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeReports } from '../../src/report/write.ts';
import { buildScorecard } from '../../src/scorecard/aggregate.ts';
import { renderScorecardHtml } from '../../src/scorecard/render-html.ts';
import { capturedPairs, meta } from './fixtures.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.resolve('reports/test-scorecard-page');

let browser: Browser;
beforeAll(async () => {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
});
afterAll(async () => {
  await browser?.close();
});

it('shows the matrix, counts, faults and throughput without console errors, each cell linked to its run', async () => {
  const pairs = await capturedPairs((name) => path.join(OUT, name));
  // Each run's own report beside the scorecard, as a real scorecard writes them, so the links resolve.
  for (const p of pairs) for (const r of [...p.runs, p.throughput!]) await writeReports(r.result, r.dir!);
  const sc = buildScorecard(pairs, meta(OUT));
  const file = path.join(OUT, 'scorecard.html');
  await writeFile(file, renderScorecardHtml(sc));

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    expect(await page.locator('#scorecard-matrix tbody tr').count()).toBe(sc.invariants.length);
    expect(await page.locator('#scorecard-matrix thead th').count()).toBe(1 + sc.pairs.length);
    expect(await page.locator('#scorecard-matrix .cell').count()).toBe(sc.invariants.length * sc.pairs.length);
    const violated = sc.invariants.flatMap((r) => Object.values(r.cells)).filter((c) => c.status === 'violated').length;
    expect(await page.locator('#scorecard-matrix .cell[data-status="violated"]').count()).toBe(violated);
    expect(await page.locator('#summary .badge-big').textContent()).toBe(`${violated} VIOLATED`);

    // The first proving operation of a violation opens the run's report at that operation.
    const dup = sc.invariants.find((r) => r.name === 'no-duplicates')!.cells['langchain-redis-history/redis']!;
    const opLink = page.locator(`#scorecard-matrix a[href="${dup.firstOp!.href}"]`);
    expect(await opLink.count()).toBe(1);
    // Every violated cell whose reproduction is in the same file links to it (one file holds several).
    const sameFile = sc.invariants.flatMap((r) => Object.values(r.cells)).filter((c) => c.repro?.href === dup.repro!.href).length;
    expect(sameFile).toBeGreaterThanOrEqual(1);
    expect(await page.locator(`#scorecard-matrix a[href="${dup.repro!.href}"]`).count()).toBe(sameFile);
    await opLink.click();
    await page.waitForURL(/index\.html#op-\d+$/);
    expect(await page.locator(`#op-${dup.firstOp!.id}`).count()).toBe(1);
    await page.goBack();

    expect(await page.locator('#counts-table tbody tr').count()).toBe(3);
    expect(await page.locator('#fault-table tbody tr').count()).toBe(sc.faults.length);
    expect(await page.locator('#state-table').textContent()).toContain('turns/s');
    expect(await page.locator('#backends-table').textContent()).toContain(Object.values(sc.pairs[1]!.versions)[0]!);
    await page.screenshot({ path: path.join(OUT, 'screenshot.png'), fullPage: true });
  } finally {
    await page.close();
  }
  expect(problems).toEqual([]);
});
