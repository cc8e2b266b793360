/**
 * A comparison as terminal text, Markdown (for a PR), a self-contained HTML page and JSON.
 * Every form leads with the verdict and a short headline table; the detail follows.
 */
import type { CompareRow, Comparison, Mark, Regression } from './compare.ts';
import { DASH, esc, fmtBytes, fmtDuration, fmtMs, fmtNum, fmtPct } from './format.ts';
import { chip, page, table } from './html/page.ts';
import { mdTable } from './markdown.ts';
import { textTable } from './text-table.ts';

const SECTIONS = ['invariants', 'latency', 'recovery', 'memory', 'load'] as const;

function fmtValue(v: number | boolean | null, row: Pick<CompareRow, 'unit' | 'section'>): string {
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

function change(v: number | boolean | null, b: number | boolean | null): string {
  if (typeof v !== 'number' || typeof b !== 'number' || !Number.isFinite(v) || !Number.isFinite(b) || b === 0 || v === b) return '';
  const pct = ((v - b) / Math.abs(b)) * 100;
  return ` (${pct >= 0 ? '+' : ''}${Math.abs(pct) >= 1000 ? Math.round(pct).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : pct.toFixed(1)}%)`;
}

const TEXT_MARK: Record<Mark, string> = { baseline: '', better: ' better', worse: ' WORSE', noise: ' ~noise', same: '', 'n/a': '' };
const MD_MARK: Record<Mark, string> = { baseline: '', better: ' ✅ better', worse: ' 🔺 **worse**', noise: ' ~ noise', same: '', 'n/a': '' };

function cells(c: Comparison, row: CompareRow, marks: Record<Mark, string>): string[] {
  const b = row.values[c.baselineIndex] ?? null;
  return row.values.map((v, i) => `${fmtValue(v, row)}${i === c.baselineIndex ? '' : change(v, b)}${marks[row.marks[i]!]}`);
}

function headers(c: Comparison): string[] {
  return ['Figure', ...c.runs.map((r, i) => `${r.label}${i === c.baselineIndex ? ' [baseline]' : ''}`)];
}

export function regressionText(r: Regression): string {
  const row = { unit: r.unit, section: r.section };
  const delta = change(r.after, r.before);
  return `${r.run}: ${r.section} ${r.label} ${fmtValue(r.before, row)} → ${fmtValue(r.after, row)}${delta}; threshold: ${r.threshold}`;
}

/** The headline: invariants held per run, then the rows marked headline. */
function headlineRows(c: Comparison, marks: Record<Mark, string>): string[][] {
  const inv = c.rows.filter((r) => r.section === 'invariants');
  const out: string[][] = [];
  if (inv.length) {
    out.push([
      'invariants held',
      ...c.runs.map((_, i) => {
        const held = inv.filter((r) => r.values[i] === true).length;
        const worse = inv.some((r) => r.marks[i] === 'worse');
        return `${held}/${inv.length}${worse ? marks.worse : ''}`;
      }),
    ]);
  }
  for (const row of c.rows.filter((r) => r.headline)) out.push([headlineLabel(row), ...cells(c, row, marks)]);
  return out;
}

function headlineLabel(row: CompareRow): string {
  const label = row.section === 'latency' ? row.label.replace(/^all ops · whole run (p\d+(\.\d+)?)$/, '$1 latency (all ops, whole run)') : row.label;
  return row.gated ? label : `${label} [not gated]`;
}

function verdictLine(c: Comparison): string {
  return c.regressions.length
    ? `${c.regressions.length} regression${c.regressions.length === 1 ? '' : 's'} against ${c.runs[c.baselineIndex]!.label}:`
    : `No regressions against ${c.runs[c.baselineIndex]!.label}: no gated figure is worse beyond its noise bound.`;
}

/** Rows that moved in some run (worse, better or held back as noise): what the terminal shows in detail. */
function movedRows(c: Comparison): CompareRow[] {
  return c.rows.filter((r) => r.marks.some((m) => m === 'worse' || m === 'better' || m === 'noise'));
}

function noiseNotes(c: Comparison, rows: readonly CompareRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) r.why.forEach((w, i) => w && r.marks[i] === 'noise' && out.push(`${r.section} ${r.label}, ${c.runs[i]!.label}: ${w}`));
  return out;
}

function notGatedNotes(c: Comparison): string[] {
  const byGroup = new Map<string, number>();
  for (const r of c.rows) if (!r.gated && r.notGatedGroup) byGroup.set(r.notGatedGroup, (byGroup.get(r.notGatedGroup) ?? 0) + 1);
  return [...byGroup].map(([why, n]) => `${why} (${n} row${n === 1 ? '' : 's'})`);
}

/** The terminal shows at most this many detail rows and noise notes; the files hold all of them. */
const TERMINAL_DETAIL_ROWS = 20;

export function renderCompareText(c: Comparison): string {
  const out: string[] = [];
  out.push(`compare: ${c.runs.length} runs of ${[...new Set(c.runs.map((r) => r.scenario))].join(', ')}; baseline ${c.runs[c.baselineIndex]!.label}`, '');
  out.push(textTable(headers(c), headlineRows(c, TEXT_MARK)));
  for (const n of c.notes) out.push(`note: ${n}`);
  out.push(verdictLine(c));
  for (const r of c.regressions) out.push(`  - ${regressionText(r)}`);
  const moved = movedRows(c).filter((r) => r.gated);
  if (moved.length) {
    const shown = moved.slice(0, TERMINAL_DETAIL_ROWS);
    out.push('', `Gated figures that moved (${moved.length}${moved.length > shown.length ? `, first ${shown.length} shown` : ''}; compare.md and compare.html hold every figure):`);
    out.push(textTable(headers(c), shown.map((r) => [`${r.section}: ${r.label}`, ...cells(c, r, TEXT_MARK)])).trimEnd());
    const noise = noiseNotes(c, moved);
    if (noise.length) {
      out.push('', 'Held back as noise:', ...noise.slice(0, TERMINAL_DETAIL_ROWS).map((n) => `  - ${n}`));
      if (noise.length > TERMINAL_DETAIL_ROWS) out.push(`  … ${noise.length - TERMINAL_DETAIL_ROWS} more in compare.md`);
    }
  }
  const ng = notGatedNotes(c);
  if (ng.length) out.push('', 'Not gated (shown in compare.md and compare.html):', ...ng.map((n) => `  - ${n}`));
  return out.join('\n') + '\n';
}

export function renderCompareMd(c: Comparison): string {
  const out = [`## stateproof compare — ${c.regressions.length ? `🔺 ${c.regressions.length} regression(s)` : '✅ no regressions'}`, ''];
  out.push(
    `Baseline: **${c.runs[c.baselineIndex]!.label}**. A figure is worse or better when it moved beyond ${c.noisePct}% (and its floor) and outside its ${c.confidence * 100}% sampling interval; "noise" says which bound held it back.`,
    '',
  );
  for (const n of c.notes) out.push(`> ${n}`, '');
  out.push(mdTable(headers(c), headlineRows(c, MD_MARK)), '');
  if (c.regressions.length) out.push('### Regressions', '', ...c.regressions.map((r) => `- ${regressionText(r)}`), '');
  for (const section of SECTIONS) {
    const rows = c.rows.filter((r) => r.section === section);
    if (!rows.length) continue;
    out.push(`### ${section[0]!.toUpperCase()}${section.slice(1)}`, '');
    out.push(mdTable([...headers(c), 'Gated'], rows.map((r) => [r.label, ...cells(c, r, MD_MARK), r.gated ? 'yes' : `no: ${r.whyNotGated ?? ''}`])), '');
  }
  const noise = noiseNotes(c, c.rows);
  if (noise.length) out.push('### Held back as noise', '', ...noise.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export function renderCompareHtml(c: Comparison): string {
  const markHtml = (m: Mark) => (m === 'worse' ? ` ${chip('fail', 'worse')}` : m === 'better' ? ` ${chip('pass', 'better')}` : m === 'noise' ? ` ${chip('info', 'noise')}` : '');
  const cellHtml = (r: CompareRow, i: number) => {
    const m = r.marks[i]!;
    const cls = m === 'worse' ? 'worse' : m === 'better' ? 'better' : 'same';
    const b = r.values[c.baselineIndex] ?? null;
    const title = r.why[i] ? ` title="${esc(r.why[i])}"` : '';
    return `<span class="${i === c.baselineIndex ? '' : cls}"${title}>${esc(fmtValue(r.values[i] ?? null, r))}</span>${i === c.baselineIndex ? '' : `<span class="note">${esc(change(r.values[i] ?? null, b))}</span>`}${markHtml(m)}`;
  };
  const sections: string[] = [];
  for (const section of SECTIONS) {
    const rows = c.rows.filter((r) => r.section === section);
    if (!rows.length) continue;
    const body = rows.map((r) => [esc(r.label), ...r.values.map((_, i) => cellHtml(r, i)), r.gated ? 'yes' : `<span class="note">no: ${esc(r.whyNotGated ?? '')}</span>`]);
    sections.push(`<h2>${esc(section[0]!.toUpperCase() + section.slice(1))}</h2>` + table([...headers(c).map((h, i) => (i === 0 ? h : `${h} #`)), 'Gated'], body, { id: `compare-${section}` }));
  }
  const verdict = c.regressions.length
    ? `<section class="verdict fail"><div class="badge-big">REGRESSION</div><div><div class="lead">${esc(verdictLine(c))}</div><ul>${c.regressions.map((r) => `<li>${esc(regressionText(r))}</li>`).join('')}</ul></div></section>`
    : `<section class="verdict pass"><div class="badge-big">NO REGRESSION</div><div><div class="lead">${esc(verdictLine(c))}</div></div></section>`;
  const headline = table(headers(c).map((h, i) => (i === 0 ? h : `${h} #`)), headlineRows(c, TEXT_MARK).map((r) => r.map(esc)), { id: 'compare-headline' });
  const runs = table(
    ['Run', 'Label', 'Scenario', 'Verdict'],
    c.runs.map((r, i) => [`<code>${esc(r.runId)}</code>${i === c.baselineIndex ? ` ${chip('info', 'baseline')}` : ''}`, esc(r.label), esc(r.scenario), r.pass ? chip('pass', 'PASS') : chip('fail', 'FAIL')]),
    { id: 'compare-runs' },
  );
  const noise = noiseNotes(c, c.rows);
  return page({
    title: `compare · ${c.runs.map((r) => r.label).join(' vs ')}`,
    body:
      `<header><h1>Compare <span class="sub" style="font-weight:400">· ${esc(c.runs.map((r) => r.label).join(' vs '))}</span></h1></header>${verdict}` +
      `<h2>Headline</h2>${headline}<h2>Runs</h2>${runs}${c.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}${sections.join('\n')}` +
      (noise.length ? `<h2>Held back as noise</h2><ul>${noise.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''),
    footer: 'stateproof compare · rendered from each run\'s result.json',
  });
}

/** Machine output for `compare --json`: plain JSON (never recovered is the string "not recovered"). */
export function compareJson(c: Comparison): unknown {
  const value = (v: number | boolean | null) => (typeof v === 'number' && !Number.isFinite(v) ? 'not recovered' : v);
  return {
    baseline: c.runs[c.baselineIndex]!.label,
    runs: c.runs,
    noisePct: c.noisePct,
    noiseFloorMs: c.noiseFloorMs,
    confidence: c.confidence,
    regressed: c.regressions.length > 0,
    regressions: c.regressions.map((r) => ({ ...r, before: value(r.before), after: value(r.after), text: regressionText(r) })),
    notes: c.notes,
    rows: c.rows.map((r) => ({ ...r, values: r.values.map(value), why: r.why.map((w) => w ?? null) })),
  };
}
