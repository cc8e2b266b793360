/**
 * The HTML shell shared by the run report, the suite report and the compare report: one file,
 * inline CSS, no scripts, no network. Dark ink on a light page, calm colours, tabular numbers.
 */
import { esc } from '../format.ts';

const CSS = `
:root{--ink:#1f2933;--muted:#616e7c;--faint:#9aa5b1;--line:#e4e7eb;--bg:#f7f8fa;--card:#fff;--pass:#2e7d4f;--pass-bg:#e3f1e8;--fail:#b3261e;--fail-bg:#fbe7e5;--warn:#8d5a1b;--warn-bg:#fbf0dc;--accent:#2f6690}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0 auto;max-width:1040px;padding:28px 28px 64px;color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
h1{font-size:24px;line-height:1.2;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:17px;margin:36px 0 10px;font-weight:650;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:18px 0 8px;font-weight:600}
p{margin:6px 0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px;overflow:auto;max-height:420px}
.sub{color:var(--muted)}
.sub span+span:before{content:"·";margin:0 8px;color:var(--faint)}
nav.toc{margin:14px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
.verdict{display:flex;gap:20px;align-items:flex-start;margin-top:20px;padding:18px 20px;border-radius:10px;border:1px solid}
.verdict.pass{background:var(--pass-bg);border-color:#b9dcc6}.verdict.fail{background:var(--fail-bg);border-color:#f0c2bd}.verdict.interrupted{background:var(--warn-bg);border-color:#ecd3a6}
.badge-big{font-size:22px;font-weight:750;letter-spacing:.06em;padding:6px 16px;border-radius:8px;color:#fff;white-space:nowrap}
.pass .badge-big{background:var(--pass)}.fail .badge-big{background:var(--fail)}.interrupted .badge-big{background:var(--warn)}
.verdict ul{margin:4px 0 0;padding-left:18px}.verdict .lead{font-weight:600;font-size:15px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin-top:14px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.tile .k{color:var(--muted);font-size:12px}.tile .note{font-size:11.5px;line-height:1.35;margin-top:2px}.tile.wide{grid-column:span 2}.tile .v{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}.tile .v small{font-size:12px;font-weight:500;color:var(--muted)}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;font-variant-numeric:tabular-nums}
th,td{padding:7px 10px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;font-weight:600;color:var(--muted);background:#fbfbfc}
td.n,th.n{text-align:right;white-space:nowrap}
tr:last-child td{border-bottom:none}
.chip{display:inline-block;font-size:11.5px;font-weight:650;padding:1px 8px;border-radius:10px;white-space:nowrap}
.chip.pass{background:var(--pass-bg);color:var(--pass)}.chip.fail{background:var(--fail-bg);color:var(--fail)}.chip.warn{background:var(--warn-bg);color:var(--warn)}.chip.info{background:#e8eef4;color:var(--accent)}
.better{color:var(--pass);font-weight:600}.worse{color:var(--fail);font-weight:600}.same{color:var(--muted)}
.anoms{margin:0;padding:0;list-style:none}.anoms li{padding:4px 0;border-top:1px dashed var(--line)}.anoms li:first-child{border-top:none}
.op{display:inline-block;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px;background:#eef1f4;border-radius:4px;padding:0 5px;margin:1px 2px 1px 0;color:var(--ink)}
figure.panel{margin:12px 0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px 6px}
figure.panel figcaption{font-weight:600;font-size:13px}.unit{font-weight:400;color:var(--muted);margin-left:6px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px}.grid2 figure.panel{margin:0}
svg.chart{display:block;margin-top:4px;overflow:visible}
svg .tick{font-size:10.5px;fill:#616e7c;font-variant-numeric:tabular-nums}
svg .axis-title{font-size:10.5px;fill:#616e7c;font-weight:600}
svg .band-label{font-size:10.5px;fill:#8d5a1b;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:2px 0 0}
.legend .key{display:inline-flex;align-items:center;gap:6px}
.legend i{display:inline-block;width:18px;height:0;border-top:2px solid var(--c)}
.legend i.dash{border-top-style:dashed}.legend i.box{height:10px;border:none;background:var(--c);border-radius:2px}
.note{color:var(--muted);font-size:12.5px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
footer{margin-top:40px;color:var(--faint);font-size:12px}
@media (max-width:760px){.grid2{grid-template-columns:1fr}}
@media print{body{max-width:none}figure.panel,table{break-inside:avoid}}
`;

export function page(opts: { title: string; body: string; footer: string }): string {
  return (
    '<!doctype html>\n' +
    '<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    // No network, no scripts: the report must open the same on an air-gapped laptop in five years.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(opts.title)}</title><style>${CSS.trim()}</style></head>\n<body>\n` +
    opts.body +
    `\n<footer>${opts.footer}</footer>\n</body></html>\n`
  );
}

export function chip(kind: 'pass' | 'fail' | 'warn' | 'info', text: string): string {
  return `<span class="chip ${kind}">${esc(text)}</span>`;
}

/** `note`: a line under the figure that says what it means (e.g. why an error rate is expected). */
export function tile(label: string, value: string, small = '', note = ''): string {
  return `<div class="tile${note ? ' wide' : ''}"><div class="k">${esc(label)}</div><div class="v">${value}${small ? ` <small>${esc(small)}</small>` : ''}</div>${note ? `<div class="note">${esc(note)}</div>` : ''}</div>`;
}

/** A table from header cells and rows of already-escaped HTML cells; headers ending in "#" are numeric. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: { id?: string } = {}): string {
  const numeric = headers.map((h) => h.endsWith('#'));
  const th = headers.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${esc(numeric[i] ? h.slice(0, -1).trimEnd() : h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${opts.id ? ` id="${esc(opts.id)}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}
