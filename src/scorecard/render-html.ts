/**
 * scorecard.html: one self-contained page (the run report's shell: inline CSS, no scripts, no
 * network). The matrix first, then the counts, faults, state growth and throughput; every cell
 * links to the report of the run it comes from, a library's violation also to its reproduction.
 */
import { DASH, esc, fmtBytes, fmtDuration } from '../report/format.ts';
import { chip, page, table } from '../report/html/page.ts';
import { besideReference, bytesText, countText, faultBlast, faultP99, faultRecovery, invariantDetail, invariantHeadline, pairVersions, slopeText, turnsText } from './cells.ts';
import type { CellStatus, Scorecard, ScorecardPair } from './schema.ts';
import { UNREPRODUCED } from './repros.ts';

const KIND: Record<CellStatus, 'pass' | 'fail' | 'warn' | 'info'> = { held: 'pass', violated: 'fail', 'no-evidence': 'fail', 'not-applicable': 'info', waived: 'warn', 'not-run': 'warn' };

/** Longer reasons are cut in the cell (the whole reason is its tooltip and in scorecard.md). */
const MAX_REASON = 110;

const a = (text: string, href: string | undefined) => (href ? `<a href="${esc(href)}">${text}</a>` : text);

/** table() with header cells that are HTML already (a pair's name over its store and version). */
function grid(headHtml: readonly string[], rows: ReadonlyArray<readonly string[]>, id: string, numeric = false): string {
  const cls = (i: number) => (numeric && i > 0 ? ' class="n"' : '');
  // Headers of numeric columns align right but may wrap (th.n would not: nine pairs would overflow).
  const thCls = (i: number) => (numeric && i > 0 ? ' style="text-align:right"' : '');
  return `<table id="${id}"><thead><tr>${headHtml.map((h, i) => `<th${thCls(i)}>${h}</th>`).join('')}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>`;
}

function pairHead(p: ScorecardPair): string {
  return `<strong>${esc(p.backend)}</strong><div class="note">${esc(p.store)}${p.storeVersion ? ` ${esc(p.storeVersion.replace(new RegExp(`^${p.store}\\s+`, 'i'), ''))}` : ''}</div>`;
}

export function renderScorecardHtml(sc: Scorecard): string {
  const ids = sc.pairs.map((p) => p.id);
  const heads = sc.pairs.map(pairHead);
  const violated = sc.invariants.flatMap((r) => ids.filter((id) => r.cells[id]?.status === 'violated').map((id) => `${id}: ${r.name}`));
  const notRun = sc.pairs.flatMap((p) => p.runs.filter((r) => r.error).map((r) => `${p.id} ${r.scenario}: ${r.error}`));

  const matrix = sc.invariants.map((row) => [
    `<strong>${esc(row.name)}</strong><div class="note">${esc(row.description)}</div>`,
    ...ids.map((id) => {
      const c = row.cells[id];
      if (!c) return `<span class="note">${DASH}</span>`;
      const title = c.scenarios.map((s) => `${s.scenario}: ${s.status}${s.anomalies ? ` (${s.anomalies})` : ''}`).join('; ');
      // A not-run cell's reason is the run's start error, the same on every row: it is shown once, in the summary and the backends table.
      const why = c.status === 'not-run' ? '' : invariantDetail(c);
      const detail = c.status === 'violated' && c.firstOp
        ? `<div class="note">first ${a(`<span class="op">#${c.firstOp.id}</span>`, c.firstOp.href)} ${esc(c.firstOp.text.replace(/^#\d+ /, ''))} · ${esc(c.firstOp.scenario)}</div>`
        : why ? `<div class="note" title="${esc(why)}">${esc(why.length > MAX_REASON ? `${why.slice(0, MAX_REASON - 1)}…` : why)}</div>` : '';
      const repro = c.repro
        ? `<div class="note">reproduced without the harness: ${a(esc(c.repro.file.split('/').pop()!), c.repro.href)}</div>`
        : c.unreproduced ? `<div class="note">${esc(UNREPRODUCED)}</div>` : '';
      return `<div class="cell" data-status="${c.status}" title="${esc(title)}">${a(chip(KIND[c.status], invariantHeadline(c)), c.href)}${detail}${repro}</div>`;
    }),
  ]);

  const counts = [
    ['lost acknowledged writes', (p: ScorecardPair) => p.counts.lostWrites],
    ['duplicates', (p: ScorecardPair) => p.counts.duplicates],
    ['divergences', (p: ScorecardPair) => p.counts.divergences],
  ] as const;

  const faults = sc.faults.map((f) => [
    `<strong>${esc(f.faultId)}</strong><div class="note">${esc(f.scenario)} · ${esc(f.target)}</div>`,
    ...ids.map((id) => {
      const c = f.cells[id];
      if (!c) return `<span class="note">${DASH}</span>`;
      return `${a(`<code>${esc(c.fault)}</code>`, c.href)}${c.verified ? '' : ` ${chip('warn', 'not verified')}`}<div>${esc(faultBlast(c))}</div><div>${esc(faultP99(c))}</div><div>${c.recovered ? esc(faultRecovery(c)) : chip('fail', faultRecovery(c))}</div>`;
    }),
  ]);

  const state = sc.pairs.map((p) => [
    pairHead(p),
    a(esc(bytesText(p)), p.bytes?.href),
    esc(slopeText(p)),
    a(esc(turnsText(p)), p.throughput?.href),
    esc(besideReference(sc, p)),
  ]);

  const backends = sc.pairs.map((p) => [
    pairHead(p),
    esc(pairVersions(p)),
    p.runs.map((r) => (r.refused ? `${esc(r.scenario)} ${chip('info', 'n/a')}<div class="note">${esc(r.refused)}</div>` : r.error ? `${esc(r.scenario)} ${chip('warn', 'not run')}<div class="note">${esc(r.error)}</div>` : `${a(esc(r.scenario), r.href)} ${r.pass ? chip('pass', 'PASS') : chip('fail', 'FAIL')}`)).join('<br>'),
  ]);

  const lead = violated.length ? `${violated.length} violated invariant cell${violated.length === 1 ? '' : 's'} across ${sc.pairs.length} backend/store pairs.` : `No invariant violated across ${sc.pairs.length} backend/store pairs.`;
  // Nine pairs do not fit the run report's column: the scorecard page is wider.
  const body =
    `<style>body{max-width:1480px}td .note{overflow-wrap:anywhere}#counts-table td:first-child{min-width:200px}#scorecard-matrix td{min-width:110px}#scorecard-matrix td:first-child{min-width:240px}</style>` +
    `<header><h1>stateproof scorecard</h1><div class="sub"><span>${esc(sc.createdAt)}</span><span>profile ${esc(sc.profile)}</span><span>${sc.pairs.length} pairs</span><span>${esc(fmtDuration(sc.wallMs))}</span><span>stateproof ${esc(sc.stateproof.version)}${sc.stateproof.gitCommit ? ` (${esc(sc.stateproof.gitCommit.slice(0, 10))})` : ''}</span></div>` +
    `<p class="note"><code>stateproof ${esc(sc.command.join(' '))}</code></p>` +
    `<nav class="toc"><a href="#matrix">Invariants</a><a href="#counts">Counts</a><a href="#faults">Faults</a><a href="#state">State and throughput</a><a href="#backends">Backends and versions</a></nav></header>` +
    `<section class="verdict ${violated.length || sc.interrupted || notRun.length ? 'fail' : 'pass'}" id="summary"><div class="badge-big">${violated.length ? `${violated.length} VIOLATED` : 'ALL HELD'}</div><div><div class="lead">${esc(lead)}${sc.interrupted ? ' Interrupted: partial.' : ''}</div>` +
    `${violated.length ? `<ul>${violated.slice(0, 12).map((v) => `<li>${esc(v)}</li>`).join('')}${violated.length > 12 ? `<li>… ${violated.length - 12} more</li>` : ''}</ul>` : ''}` +
    `${notRun.length ? `<ul>${notRun.map((v) => `<li>not run: ${esc(v)}</li>`).join('')}</ul>` : ''}` +
    `${sc.skipped.length ? `<ul>${sc.skipped.map((s) => `<li>skipped ${esc(`${s.backend}/${s.store}`)}: ${esc(s.reason)}</li>`).join('')}</ul>` : ''}</div></section>` +
    `<section id="matrix"><h2>Invariants</h2><p class="note">Each cell is the pair's status across the scenarios that judge the invariant (${esc(sc.scenarios.join(', '))}): violated in any → violated, with the anomalies counted and the first proving operation; hover a cell for each scenario's own status. A cell links to its run's report.</p>` +
    grid(['Invariant', ...heads], matrix, 'scorecard-matrix') +
    `</section>` +
    `<section id="counts"><h2>Lost acknowledged writes, duplicates, divergences</h2>` +
    grid(['', ...heads], counts.map(([label, f]) => [esc(label), ...sc.pairs.map((p) => esc(countText(f(p))))]), 'counts-table', true) +
    `<p class="note">Anomalies of no-lost-writes, no-duplicates and no-divergence (and no-divergence-after-failover), summed over the scenarios; ${DASH} where no scenario judged it.</p></section>` +
    `<section id="faults"><h2>Faults: blast radius, p99 during the fault, time to recover</h2>` +
    (faults.length
      ? grid(['Fault', ...heads], faults, 'fault-table')
      : '<p class="note">No fault was injected in these scenarios.</p>') +
    `</section>` +
    `<section id="state"><h2>State and throughput</h2>` +
    table(['Backend / store', 'Bytes per session', 'Growth once the window is full', 'Turns/s without faults', 'Beside the reference'], state, { id: 'state-table' }) +
    `${sc.pairs.find((p) => p.bytes) ? `<p class="note">Bytes per session: ${esc(sc.pairs.find((p) => p.bytes)!.bytes!.source)}.</p>` : '<p class="note">Bytes per session come from the long-session scenario, which this scorecard did not run.</p>'}` +
    `${sc.throughputMethod ? `<p class="note">Turns/s: ${esc(sc.throughputMethod)}</p>` : '<p class="note">Turns/s were not measured (--throughput off).</p>'}</section>` +
    `<section id="backends"><h2>Backends and versions</h2>` +
    table(['Backend / store', 'Versions', 'Runs'], backends, { id: 'backends-table' }) +
    `<dl class="kv" style="margin-top:12px"><dt>Machine</dt><dd>${esc(`${sc.machine.os} ${sc.machine.arch}, ${sc.machine.cpus} × ${sc.machine.cpuModel ?? 'CPU'}, ${fmtBytes(sc.machine.memoryBytes)}${sc.machine.loadAverage ? `, load average ${sc.machine.loadAverage.start} at the start, ${sc.machine.loadAverage.end} at the end` : ''}`)}</dd><dt>Node</dt><dd>${esc(sc.machine.node)}</dd><dt>Date</dt><dd>${esc(sc.createdAt)}</dd><dt>Command</dt><dd><code>stateproof ${esc(sc.command.join(' '))}</code></dd>${sc.notes.map((n) => `<dt>Note</dt><dd>${esc(n)}</dd>`).join('')}</dl></section>`;
  return page({ title: `stateproof scorecard · ${sc.pairs.length} pairs`, body, footer: 'stateproof scorecard · rendered from scorecard.json · each cell links to the run it comes from' });
}
