/**
 * Two scorecards side by side: which cells flipped (an invariant's status for a pair), which
 * counts moved (anomalies, lost writes, duplicates, divergences, failed operations under a fault),
 * and which measured figures moved beyond a relative tolerance (p99 during a fault, time to
 * recover, bytes per session, growth slope, turns/s). A pair or invariant in one scorecard only is
 * listed as such, never compared to nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../base/errors.ts';
import { fmtNum } from '../report/format.ts';
import { invariantHeadline } from './cells.ts';
import { SCORECARD_FILE, SCORECARD_KIND, ScorecardSchema, type CellStatus, type Scorecard } from './schema.ts';

export type ChangeKind = 'flipped' | 'count' | 'figure' | 'only-in-a' | 'only-in-b';

export interface ScorecardChange {
  kind: ChangeKind;
  pair: string;
  what: string;
  before: string;
  after: string;
  /** Whether b is worse than a here (a flip away from held, a count that rose, recovery lost). */
  worse: boolean;
}

export interface ScorecardDiff {
  a: { createdAt: string; command: string };
  b: { createdAt: string; command: string };
  tolerancePct: number;
  changes: ScorecardChange[];
}

const RANK: Record<CellStatus, number> = { held: 0, waived: 1, 'not-applicable': 1, 'not-run': 2, 'no-evidence': 3, violated: 4 };

/** A scorecard.json, or a directory holding one; null when the path is something else (a run). */
export async function scorecardPath(p: string): Promise<string | null> {
  const st = await stat(p).catch(() => null);
  if (!st) return null;
  if (st.isDirectory()) {
    const inside = path.join(p, SCORECARD_FILE);
    return (await stat(inside).catch(() => null)) ? inside : null;
  }
  if (path.basename(p) === SCORECARD_FILE) return p;
  const text = await readFile(p, 'utf8').catch(() => '');
  return text.includes(`"kind": "${SCORECARD_KIND}"`) ? p : null;
}

export async function loadScorecard(file: string): Promise<Scorecard> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not a readable JSON file (${(e as Error).message}).`);
  }
  const parsed = ScorecardSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`${file} is not a scorecard (v1): ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}. Pass the scorecard.json written by 'stateproof scorecard'.`);
  }
  return parsed.data;
}

export function diffScorecards(a: Scorecard, b: Scorecard, opts: { tolerancePct?: number } = {}): ScorecardDiff {
  const tol = opts.tolerancePct ?? 10;
  const changes: ScorecardChange[] = [];
  const add = (c: ScorecardChange) => changes.push(c);
  const idsA = new Set(a.pairs.map((p) => p.id));
  const idsB = new Set(b.pairs.map((p) => p.id));
  for (const id of idsA) if (!idsB.has(id)) add({ kind: 'only-in-a', pair: id, what: 'pair', before: 'scored', after: 'not in b', worse: false });
  for (const id of idsB) if (!idsA.has(id)) add({ kind: 'only-in-b', pair: id, what: 'pair', before: 'not in a', after: 'scored', worse: false });
  const both = a.pairs.filter((p) => idsB.has(p.id)).map((p) => p.id);

  for (const rowA of a.invariants) {
    const rowB = b.invariants.find((r) => r.name === rowA.name);
    for (const id of both) {
      const ca = rowA.cells[id];
      const cb = rowB?.cells[id];
      if (ca && !cb) add({ kind: 'only-in-a', pair: id, what: rowA.name, before: invariantHeadline(ca), after: 'not judged', worse: false });
      if (!ca || !cb) continue;
      if (ca.status !== cb.status) add({ kind: 'flipped', pair: id, what: rowA.name, before: invariantHeadline(ca), after: invariantHeadline(cb), worse: RANK[cb.status] > RANK[ca.status] });
      else if (ca.status === 'violated' && ca.count !== cb.count) add({ kind: 'count', pair: id, what: `${rowA.name} anomalies`, before: String(ca.count), after: String(cb.count), worse: cb.count > ca.count });
    }
  }
  for (const rowB of b.invariants) {
    const rowA = a.invariants.find((r) => r.name === rowB.name);
    for (const id of both) if (rowB.cells[id] && !rowA?.cells[id]) add({ kind: 'only-in-b', pair: id, what: rowB.name, before: 'not judged', after: invariantHeadline(rowB.cells[id]!), worse: false });
  }

  const moved = (x: number, y: number, floor: number) => Math.abs(y - x) > Math.max(floor, (Math.abs(x) * tol) / 100);
  for (const id of both) {
    const pa = a.pairs.find((p) => p.id === id)!;
    const pb = b.pairs.find((p) => p.id === id)!;
    for (const [key, label] of [['lostWrites', 'lost acknowledged writes'], ['duplicates', 'duplicates'], ['divergences', 'divergences']] as const) {
      const x = pa.counts[key];
      const y = pb.counts[key];
      if (x !== y) add({ kind: 'count', pair: id, what: label, before: x === null ? 'not judged' : String(x), after: y === null ? 'not judged' : String(y), worse: (y ?? 0) > (x ?? 0) });
    }
    const figure = (what: string, x: number | null | undefined, y: number | null | undefined, unit: string, floor: number, higherIsBetter: boolean) => {
      if (x === null || x === undefined || y === null || y === undefined) {
        if ((x ?? null) !== (y ?? null)) add({ kind: 'figure', pair: id, what, before: x == null ? 'not measured' : `${fmtNum(x)} ${unit}`, after: y == null ? 'not measured' : `${fmtNum(y)} ${unit}`, worse: false });
        return;
      }
      if (moved(x, y, floor)) add({ kind: 'figure', pair: id, what, before: `${fmtNum(x)} ${unit}`, after: `${fmtNum(y)} ${unit}`, worse: higherIsBetter ? y < x : y > x });
    };
    figure('bytes per session', pa.bytes?.p50Bytes, pb.bytes?.p50Bytes, 'B', 16, false);
    figure('growth once the window is full', pa.bytes?.slopeBytesPerTurn, pb.bytes?.slopeBytesPerTurn, 'B/turn', 16, false);
    figure('turns/s without faults', pa.throughput?.turnsPerSec, pb.throughput?.turnsPerSec, 'turns/s', 1, true);
  }

  for (const fa of a.faults) {
    const fb = b.faults.find((f) => f.scenario === fa.scenario && f.faultId === fa.faultId);
    if (!fb) continue;
    for (const id of both) {
      const ca = fa.cells[id];
      const cb = fb.cells[id];
      if (!ca || !cb) continue;
      const where = `${fa.scenario} · ${fa.faultId}`;
      if (ca.recovered !== cb.recovered) add({ kind: 'flipped', pair: id, what: `${where} recovery`, before: ca.recovered ? 'recovered' : 'did not recover', after: cb.recovered ? 'recovered' : 'did not recover', worse: ca.recovered });
      const badA = ca.failed + ca.unknown;
      const badB = cb.failed + cb.unknown;
      if (moved(badA, badB, 1)) add({ kind: 'count', pair: id, what: `${where} ops failed or unknown`, before: `${badA}/${ca.ops}`, after: `${badB}/${cb.ops}`, worse: badB / Math.max(1, cb.ops) > badA / Math.max(1, ca.ops) });
      if (ca.p99DuringMs !== null && cb.p99DuringMs !== null && moved(ca.p99DuringMs, cb.p99DuringMs, 5)) add({ kind: 'figure', pair: id, what: `${where} p99 during`, before: `${fmtNum(ca.p99DuringMs)} ms`, after: `${fmtNum(cb.p99DuringMs)} ms`, worse: cb.p99DuringMs > ca.p99DuringMs });
      if (ca.timeToRecoverMs !== null && cb.timeToRecoverMs !== null && moved(ca.timeToRecoverMs, cb.timeToRecoverMs, 1000)) add({ kind: 'figure', pair: id, what: `${where} time to recover`, before: `${fmtNum(ca.timeToRecoverMs)} ms`, after: `${fmtNum(cb.timeToRecoverMs)} ms`, worse: cb.timeToRecoverMs > ca.timeToRecoverMs });
    }
  }
  return { a: { createdAt: a.createdAt, command: a.command.join(' ') }, b: { createdAt: b.createdAt, command: b.command.join(' ') }, tolerancePct: tol, changes };
}

const HEADINGS: Record<ChangeKind, string> = {
  flipped: 'Cells that flipped',
  count: 'Counts that moved',
  figure: 'Figures that moved',
  'only-in-a': 'Only in a',
  'only-in-b': 'Only in b',
};

export function renderDiffText(d: ScorecardDiff): string {
  const lines = [`scorecard a: ${d.a.createdAt}  (stateproof ${d.a.command})`, `scorecard b: ${d.b.createdAt}  (stateproof ${d.b.command})`];
  if (d.changes.length === 0) return [...lines, 'nothing changed: every cell, count and figure is the same (figures within ' + d.tolerancePct + ' %)'].join('\n');
  for (const kind of Object.keys(HEADINGS) as ChangeKind[]) {
    const of = d.changes.filter((c) => c.kind === kind);
    if (!of.length) continue;
    lines.push('', `${HEADINGS[kind]}${kind === 'figure' ? ` (beyond ${d.tolerancePct} %)` : ''}:`);
    for (const c of of) lines.push(`  ${c.worse ? 'WORSE ' : '      '}${c.pair}  ${c.what}: ${c.before} → ${c.after}`);
  }
  return lines.join('\n');
}

export function renderDiffMd(d: ScorecardDiff): string {
  const out = [`## Scorecard changes`, '', `a: ${d.a.createdAt} (\`stateproof ${d.a.command}\`)  `, `b: ${d.b.createdAt} (\`stateproof ${d.b.command}\`)`, ''];
  if (d.changes.length === 0) return out.concat(['Nothing changed.', '']).join('\n');
  out.push('| Change | Pair | What | a | b |', '| --- | --- | --- | --- | --- |');
  for (const c of d.changes) out.push(`| ${c.worse ? '**worse** ' : ''}${HEADINGS[c.kind].toLowerCase()} | ${c.pair} | ${c.what} | ${c.before} | ${c.after} |`);
  return out.join('\n') + '\n';
}

