/**
 * writeReports(result, runDir): every per-run output, rendered from the result alone.
 *
 *   result ──redact──▶ validate ──▶ result.json
 *                                 ├▶ index.html   (html/run-report.ts)
 *                                 ├▶ summary.md   (markdown.ts)
 *                                 ├▶ junit.xml    (junit.ts)
 *                                 └▶ latency/<op>.<phase>.<instance>.<kind>.hgrm
 *
 * history.json is the recorder's, written beside result.json by the run; writeReports writes it
 * only when handed a history, and `report --out` copies it.
 */
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeSnapshot } from '../record/hdr.ts';
import { toHgrm } from './hgrm.ts';
import { renderRunHtml } from './html/run-report.ts';
import { renderJunit } from './junit.ts';
import { renderSummaryMd } from './markdown.ts';
import { redact } from './redact.ts';
import { parseResult, type HdrSnapshot, type RunResult } from './result-schema.ts';

export const RESULT_FILE = 'result.json';
export const HISTORY_FILE = 'history.json';

/** Redact the free-form parts again: a hand-edited or foreign result.json must not leak either. */
export function sanitize(result: unknown): RunResult {
  const r = parseResult(result);
  return parseResult({ ...r, config: redact(r.config), topology: redact(r.topology), faultPlan: redact(r.faultPlan), timeline: redact(r.timeline) });
}

export function hgrmFileName(s: Pick<HdrSnapshot, 'op' | 'phase' | 'instance' | 'kind'>): string {
  const safe = (x: string) => x.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${safe(s.op)}.${safe(s.phase)}.${safe(s.instance)}.${s.kind}.hgrm`;
}

export interface RenderedReports {
  /** relative path → content */
  files: Map<string, string>;
}

/** Every output as text, without touching the disk (the CLI and tests compare these). */
export function renderReports(input: unknown): RenderedReports {
  const r = sanitize(input);
  const files = new Map<string, string>();
  // Key order as the schema and producers give it: a parse → stringify round trip is a fixed point,
  // so `report` reproduces result.json byte for byte (sorting keys would reorder fault parameters).
  files.set(RESULT_FILE, JSON.stringify(r, null, 2) + '\n');
  files.set('index.html', renderRunHtml(r));
  files.set('summary.md', renderSummaryMd(r));
  files.set('junit.xml', renderJunit([r]));
  for (const s of r.latency.histograms) {
    if (s.count === 0) continue;
    files.set(`latency/${hgrmFileName(s)}`, toHgrm(decodeSnapshot(s.snapshot)));
  }
  return { files };
}

/** `historyJson`: the history as each entry's JSON text, written as they come (a spilled history is never parsed for it). */
export async function writeReports(result: unknown, runDir: string, opts: { history?: Iterable<unknown>; historyJson?: Iterable<string> } = {}): Promise<string[]> {
  const { files } = renderReports(result);
  // result.json first, whole (renamed into place): a run dir that exists holds the result, even
  // when a force-quit (a second Ctrl-C) ends the process before the other files are written.
  await mkdir(runDir, { recursive: true });
  const tmp = path.join(runDir, `.${RESULT_FILE}.tmp`);
  await writeFile(tmp, files.get(RESULT_FILE)!);
  await rename(tmp, path.join(runDir, RESULT_FILE));
  await mkdir(path.join(runDir, 'latency'), { recursive: true });
  // Stale .hgrm files from an earlier render would survive otherwise and no longer match result.json.
  for (const f of await readdir(path.join(runDir, 'latency'))) {
    if (f.endsWith('.hgrm') && !files.has(`latency/${f}`)) await rm(path.join(runDir, 'latency', f));
  }
  if (opts.history || opts.historyJson) files.set(HISTORY_FILE, '');
  const written: string[] = [];
  for (const [rel, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (rel === HISTORY_FILE && opts.historyJson) await writeJsonArray(path.join(runDir, rel), opts.historyJson, (line) => line);
    else if (rel === HISTORY_FILE && opts.history) await writeJsonArray(path.join(runDir, rel), opts.history);
    else if (rel !== RESULT_FILE) await writeFile(path.join(runDir, rel), text);
    written.push(rel);
  }
  return written;
}

/**
 * The same bytes as JSON.stringify(items) + '\n', written in chunks: a fast backend's history is
 * past V8's longest string long before it is past the disk.
 */
export async function writeJsonArray<T>(file: string, items: Iterable<T>, toJson: (item: T) => string | undefined = (item) => JSON.stringify(item)): Promise<void> {
  const CHUNK_CHARS = 1 << 20;
  const fh = await open(file, 'w');
  try {
    let chunk = '[';
    let first = true;
    for (const item of items) {
      // As JSON.stringify does inside an array: what has no JSON form is null.
      chunk += (first ? '' : ',') + (toJson(item) ?? 'null');
      first = false;
      if (chunk.length >= CHUNK_CHARS) {
        await fh.write(chunk);
        chunk = '';
      }
    }
    await fh.write(chunk + ']\n');
  } finally {
    await fh.close();
  }
}
