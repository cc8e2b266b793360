/**
 * The suite report: one page over every scenario run of `stateproof suite`, linking each run's own
 * report, plus a combined summary.md and junit.xml (one <testsuite> per scenario).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DASH, esc, fmtInt, fmtMs, fmtPct } from './format.ts';
import { decodeSnapshot } from '../record/hdr.ts';
import { findSnapshot } from './snapshots.ts';
import { chip, page, table } from './html/page.ts';
import { renderJunit } from './junit.ts';
import { mdTable } from './markdown.ts';
import type { RunResult } from './result-schema.ts';
import { sanitize } from './write.ts';
import { interruptionText, VERDICT_WORD, verdictKind, type VerdictKind } from './verdict.ts';

export interface SuiteOptions {
  /** Link from the suite page to a run's index.html; default `<runId>/index.html` (runs under the suite dir). */
  hrefFor?: (r: RunResult) => string;
  title?: string;
  /** Scenarios the suite did not get to because it was interrupted (SIGINT/SIGTERM). */
  notRun?: readonly string[];
}

/** The suite's verdict: interrupted when a signal cut any scenario short or left one unrun. */
export function suiteVerdict(results: readonly RunResult[], notRun: readonly string[] = []): VerdictKind {
  if (notRun.length || results.some((r) => r.verdict.interrupted)) return 'interrupted';
  return results.every((r) => r.verdict.pass) ? 'pass' : 'fail';
}

const CHIP = { pass: 'pass', fail: 'fail', interrupted: 'warn' } as const;

function row(r: RunResult) {
  const s = findSnapshot(r.latency.histograms, {});
  const p99 = s && s.count > 0 ? decodeSnapshot(s.snapshot).getValueAtPercentile(99) / 1000 : null;
  return {
    held: `${r.invariants.filter((i) => i.holds).length}/${r.invariants.length}`,
    p99,
    recovered: r.faults.length ? `${r.faults.filter((f) => f.recovered).length}/${r.faults.length}` : DASH,
  };
}

export function renderSuiteHtml(results: readonly RunResult[], opts: SuiteOptions = {}): string {
  const href = opts.hrefFor ?? ((r: RunResult) => `${r.runId}/index.html`);
  const failed = results.filter((r) => verdictKind(r.verdict) === 'fail');
  const notRun = opts.notRun ?? [];
  const kind = suiteVerdict(results, notRun);
  const cut = results.find((r) => r.verdict.interrupted);
  const rows = results.map((r) => {
    const x = row(r);
    const k = verdictKind(r.verdict);
    return [
      chip(CHIP[k], VERDICT_WORD[k]),
      `<a href="${esc(href(r))}"><strong>${esc(r.scenario.name)}</strong></a><div class="note">${esc(r.scenario.profile)} · <code>${esc(r.runId)}</code></div>`,
      esc(x.held),
      fmtInt(r.metrics.totals.count),
      fmtPct(r.metrics.errorRate),
      fmtMs(x.p99),
      esc(x.recovered),
      r.verdict.reasons.length ? `<ul class="anoms">${r.verdict.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : `<span class="note">${DASH}</span>`,
    ];
  });
  const title = opts.title ?? 'stateproof suite';
  return page({
    title: `${VERDICT_WORD[kind]} · ${title}`,
    body:
      `<header><h1>${esc(title)}</h1><div class="sub"><span>${results.length} scenarios</span><span>${results.filter((r) => r.verdict.pass).length} passed</span><span>${failed.length} failed</span>${notRun.length ? `<span>${notRun.length} not run</span>` : ''}</div></header>` +
      `<section class="verdict ${kind}"><div class="badge-big">${VERDICT_WORD[kind]}</div><div><div class="lead">${
        kind === 'pass'
          ? 'Every scenario held all its invariants and thresholds.'
          : kind === 'interrupted'
            ? esc(`The suite was interrupted${cut ? ` (${cut.scenario.name}: ${interruptionText(cut.verdict.interrupted!)})` : ''}${notRun.length ? `; not run: ${notRun.join(', ')}` : ''}. ${failed.length} of ${results.length} scenarios run failed.`)
            : `${failed.length} of ${results.length} scenarios failed.`
      }</div>${failed.length ? `<ul>${failed.map((r) => `<li>${esc(r.scenario.name)}: ${esc(r.verdict.reasons[0] ?? 'failed')}</li>`).join('')}</ul>` : ''}</div></section>` +
      `<h2>Scenarios</h2>` +
      table(['', 'Scenario', 'Invariants held', 'Requests #', 'Error rate #', 'p99 (ms) #', 'Faults recovered', 'Why'], rows, { id: 'suite-table' }),
    footer: 'stateproof suite · each scenario links to its own report',
  });
}

export function renderSuiteMd(results: readonly RunResult[], opts: SuiteOptions = {}): string {
  const passed = results.filter((r) => r.verdict.pass).length;
  const notRun = opts.notRun ?? [];
  const kind = suiteVerdict(results, notRun);
  const out = [
    `## ${{ pass: '✅', fail: '❌', interrupted: '⏹️' }[kind]} ${opts.title ?? 'stateproof suite'}: ${kind === 'interrupted' ? 'INTERRUPTED, ' : ''}${passed}/${results.length + notRun.length} scenarios passed${notRun.length ? ` (not run: ${notRun.join(', ')})` : ''}`,
    '',
  ];
  out.push(
    mdTable(
      ['Scenario', 'Result', 'Invariants held', 'Requests #', 'Error rate #', 'p99 ms #', 'Faults recovered', 'Why'],
      results.map((r) => {
        const x = row(r);
        const k = verdictKind(r.verdict);
        return [r.scenario.name, k === 'pass' ? 'pass' : k === 'fail' ? '**FAIL**' : '**interrupted**', x.held, fmtInt(r.metrics.totals.count), fmtPct(r.metrics.errorRate), fmtMs(x.p99), x.recovered, r.verdict.reasons.join('; ') || DASH];
      }),
    ),
  );
  return out.join('\n') + '\n';
}

export async function writeSuiteReport(results: readonly unknown[], dir: string, opts: SuiteOptions = {}): Promise<string[]> {
  const safe = results.map(sanitize);
  await mkdir(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['index.html', renderSuiteHtml(safe, opts)],
    ['summary.md', renderSuiteMd(safe, opts)],
    ['junit.xml', renderJunit(safe, opts.title ?? 'stateproof suite')],
  ];
  for (const [name, text] of files) await writeFile(path.join(dir, name), text);
  return files.map(([n]) => n);
}
