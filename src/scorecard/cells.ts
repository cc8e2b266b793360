/** What each scorecard cell says, in words shared by the HTML, the Markdown and the terminal. */
import { DASH, fmtDuration, fmtInt, fmtMs, fmtNum } from '../report/format.ts';
import type { CellStatus, FaultCell, InvariantCell, Scorecard, ScorecardPair } from './schema.ts';

export const STATUS_LABEL: Record<CellStatus, string> = {
  held: 'held',
  violated: 'VIOLATED',
  'not-applicable': 'n/a',
  waived: 'waived',
  'no-evidence': 'NO EVIDENCE',
  'not-run': 'not run',
};

/** The cell's headline: "held", "VIOLATED ×3", "n/a". */
export function invariantHeadline(c: InvariantCell): string {
  return c.status === 'violated' ? `${STATUS_LABEL.violated} ×${c.count}` : STATUS_LABEL[c.status];
}

/** The line under it: the first proving operation, or the reason. */
export function invariantDetail(c: InvariantCell): string {
  if (c.status === 'violated') return c.firstOp ? `first: ${c.firstOp.text} (${c.firstOp.scenario})` : (c.evidence ?? '');
  return c.reason ?? '';
}

export function faultBlast(c: FaultCell): string {
  const bad = c.failed + c.unknown;
  return `${fmtInt(bad)}/${fmtInt(c.ops)} ops failed or unknown${c.degraded ? `, ${fmtInt(c.degraded)} degraded` : ''}, ${fmtInt(c.affectedSessions)} sessions${c.affectedInstances.length ? ` on ${c.affectedInstances.join(',')}` : ''}`;
}

export function faultP99(c: FaultCell): string {
  return `p99 ${fmtMs(c.p99DuringMs)} ms (before ${fmtMs(c.p99BeforeMs)})`;
}

export function faultRecovery(c: FaultCell): string {
  return c.recovered ? `recovered in ${fmtDuration(c.timeToRecoverMs)}` : 'did not recover within the run';
}

export function countText(n: number | null): string {
  return n === null ? DASH : fmtInt(n);
}

export function bytesText(p: ScorecardPair): string {
  return p.bytes ? `${fmtInt(p.bytes.p50Bytes)} B at ${fmtInt(p.bytes.atTurns)} turns` : DASH;
}

export function slopeText(p: ScorecardPair): string {
  const s = p.bytes?.slopeBytesPerTurn;
  return s === null || s === undefined ? DASH : `${fmtNum(s, 1)} B/turn`;
}

export function turnsText(p: ScorecardPair): string {
  const t = p.throughput;
  if (!t) return DASH;
  if (t.turnsPerSec === null) return t.error ? `not measured: ${t.error}` : DASH;
  const errors = t.errors ? ` (${fmtInt(t.errors)} failed or unknown)` : '';
  return `${fmtNum(t.turnsPerSec, 0)} turns/s${errors}${t.pass ? '' : `; its run FAILED: ${t.reasons.join('; ')}`}`;
}

/** The reference service's turns/s on the same store, and this pair's share of it. */
export function besideReference(sc: Scorecard, p: ScorecardPair): string {
  const ref = sc.pairs.find((x) => x.backend === 'reference' && x.store === p.store);
  if (p.backend === 'reference') return 'is the reference';
  const r = ref?.throughput?.turnsPerSec;
  if (r === null || r === undefined) return `reference on ${p.store} not in this scorecard`;
  const mine = p.throughput?.turnsPerSec;
  return `reference: ${fmtNum(r, 0)} turns/s${mine !== null && mine !== undefined && r > 0 ? ` (${Math.round((mine / r) * 100)} %)` : ''}`;
}

export function pairVersions(p: ScorecardPair): string {
  const libs = Object.entries(p.versions).map(([k, v]) => `${k} ${v}`);
  return [...libs, p.storeVersion ? `${p.store} ${p.storeVersion.replace(new RegExp(`^${p.store}\\s+`, 'i'), '')}` : p.store].join(', ');
}
