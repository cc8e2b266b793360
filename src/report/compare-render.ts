/** A comparison as a terminal table, Markdown (for a PR) and a self-contained HTML page. */
import type { CompareRow, Comparison, Mark } from './compare.ts';
import { DASH, esc, fmtBytes, fmtDuration, fmtMs, fmtNum, fmtPct } from './format.ts';
import { chip, page, table } from './html/page.ts';
import { mdTable } from './markdown.ts';
import { textTable } from './text-table.ts';

function fmtValue(v: number | boolean | null, row: CompareRow): string {
  if (v === null) return DASH;
  if (typeof v === 'boolean') return v ? 'holds' : 'VIOLATED';
  if (!Number.isFinite(v)) return 'not recovered';
  switch (row.unit) {
    case 'ms':
      return row.section === 'recovery' ? fmtDuration(v) : `${fmtMs(v)} ms`;
    case 'bytes':
      return fmtBytes(v);
    case 'ratio':
      return fmtPct(v);
    case 'req/s':
      return `${fmtNum(v)}/s`;
    default:
      return String(v);
  }
}

function delta(v: number | boolean | null, b: number | boolean | null): string {
  if (typeof v !== 'number' || typeof b !== 'number' || !Number.isFinite(v) || !Number.isFinite(b) || b === 0) return '';
  const pct = ((v - b) / Math.abs(b)) * 100;
  return ` (${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%)`;
}

const MARK_TEXT: Record<Mark, string> = { baseline: 'baseline', better: 'better', worse: 'WORSE', same: '', 'n/a': '' };

function cells(c: Comparison, row: CompareRow, style: 'text' | 'md'): string[] {
  const b = row.values[c.baselineIndex] ?? null;
  return row.values.map((v, i) => {
    const m = row.marks[i]!;
    const mark = m === 'worse' || m === 'better' ? (style === 'md' ? (m === 'worse' ? ' 🔺 **worse**' : ' ✅ better') : ` ${MARK_TEXT[m]}`) : '';
    return `${fmtValue(v, row)}${i === c.baselineIndex ? '' : delta(v, b)}${mark}${row.gated || m === 'baseline' ? '' : m === 'worse' || m === 'better' ? ' (not gated)' : ''}`;
  });
}

function headers(c: Comparison): string[] {
  return ['Figure', ...c.runs.map((r, i) => `${r.label}${i === c.baselineIndex ? ' [baseline]' : ''}`)];
}

export function renderCompareText(c: Comparison): string {
  const rows = c.rows.map((r) => [`${r.section}: ${r.label}`, ...cells(c, r, 'text')]);
  const verdict = c.regressions.length ? `${c.regressions.length} regression(s) beyond ${c.noisePct}% noise:\n${c.regressions.map((r) => `  - ${r}`).join('\n')}\n` : `No regressions beyond ${c.noisePct}% noise.\n`;
  return textTable(headers(c), rows) + '\n' + c.notes.map((n) => `note: ${n}\n`).join('') + verdict;
}

export function renderCompareMd(c: Comparison): string {
  const out = [`## stateproof compare — ${c.regressions.length ? `🔺 ${c.regressions.length} regression(s)` : '✅ no regressions'}`, ''];
  out.push(`Baseline: **${c.runs[c.baselineIndex]!.label}**. Differences within ${c.noisePct}% (and the noise floors) are marked same.`, '');
  for (const n of c.notes) out.push(`> ${n}`, '');
  for (const section of ['invariants', 'latency', 'recovery', 'memory', 'load'] as const) {
    const rows = c.rows.filter((r) => r.section === section);
    if (!rows.length) continue;
    out.push(`### ${section[0]!.toUpperCase()}${section.slice(1)}`, '');
    out.push(mdTable(headers(c), rows.map((r) => [r.label, ...cells(c, r, 'md')])), '');
  }
  if (c.regressions.length) out.push('### Regressions', '', ...c.regressions.map((r) => `- ${r}`), '');
  return out.join('\n');
}

export function renderCompareHtml(c: Comparison): string {
  const sections: string[] = [];
  for (const section of ['invariants', 'latency', 'recovery', 'memory', 'load'] as const) {
    const rows = c.rows.filter((r) => r.section === section);
    if (!rows.length) continue;
    const body = rows.map((r) => {
      const b = r.values[c.baselineIndex] ?? null;
      return [
        `${esc(r.label)}${r.gated ? '' : ' <span class="note">(not gated)</span>'}`,
        ...r.values.map((v, i) => {
          const m = r.marks[i]!;
          const cls = m === 'worse' ? 'worse' : m === 'better' ? 'better' : 'same';
          return `<span class="${i === c.baselineIndex ? '' : cls}">${esc(fmtValue(v, r))}</span>${i === c.baselineIndex ? '' : `<span class="note">${esc(delta(v, b))}</span>`}${m === 'worse' ? ` ${chip('fail', 'worse')}` : m === 'better' ? ` ${chip('pass', 'better')}` : ''}`;
        }),
      ];
    });
    sections.push(`<h2>${esc(section[0]!.toUpperCase() + section.slice(1))}</h2>` + table(headers(c).map((h, i) => (i === 0 ? h : `${h} #`)), body, { id: `compare-${section}` }));
  }
  const verdict = c.regressions.length
    ? `<section class="verdict fail"><div class="badge-big">REGRESSION</div><div><div class="lead">${c.regressions.length} figure(s) worse than the baseline beyond ${c.noisePct}% noise.</div><ul>${c.regressions.map((r) => `<li>${esc(r)}</li>`).join('')}</ul></div></section>`
    : `<section class="verdict pass"><div class="badge-big">NO REGRESSION</div><div><div class="lead">Nothing is worse than the baseline beyond ${c.noisePct}% noise.</div></div></section>`;
  const runs = table(
    ['Run', 'Label', 'Scenario', 'Verdict'],
    c.runs.map((r, i) => [`<code>${esc(r.runId)}</code>${i === c.baselineIndex ? ` ${chip('info', 'baseline')}` : ''}`, esc(r.label), esc(r.scenario), r.pass ? chip('pass', 'PASS') : chip('fail', 'FAIL')]),
    { id: 'compare-runs' },
  );
  return page({
    title: `compare · ${c.runs.map((r) => r.label).join(' vs ')}`,
    body: `<header><h1>Compare <span class="sub" style="font-weight:400">· ${esc(c.runs.map((r) => r.label).join(' vs '))}</span></h1></header>${verdict}<h2>Runs</h2>${runs}${c.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}${sections.join('\n')}`,
    footer: 'stateproof compare · rendered from each run\'s result.json',
  });
}
