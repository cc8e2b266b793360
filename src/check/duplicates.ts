/**
 * Duplicates: one turn id applied more than once. Three witnesses:
 *  - a window holds the same turn id twice;
 *  - two answers both say `applied: true` for the same turn id (an idempotent replay must say
 *    `applied: false`);
 *  - an applied append moved turnCount by two or more past what the same client had just seen,
 *    while no other turn's append could have landed in between (timed-out appends may land any
 *    time after they were sent, so they count as "could have").
 */
import type { HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';
import { byStart, lowerBound, observationOf, possiblyApplied, upperBound, type SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export function checkDuplicates(sessions: readonly SessionIndex[], opts: ResolvedOptions): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const s of sessions) {
    duplicateInWindow(s, opts, anomalies);
    appliedTwice(s, anomalies);
    for (const epoch of s.epochs) countJumps(s.key, epoch, s.ambiguous, opts, anomalies);
  }
  return anomalies;
}

function duplicateInWindow(s: SessionIndex, opts: ResolvedOptions, out: Anomaly[]): void {
  const reported = new Set<string>();
  for (const e of s.entries) {
    const o = observationOf(e, opts);
    if (!o || o.ids.length < 2) continue;
    if (o.ids.length <= 32 && allDistinct(o.ids)) continue; // the common case, without a set per read
    const seen = new Set<string>();
    for (const id of o.ids) {
      if (!seen.has(id)) {
        seen.add(id);
        continue;
      }
      if (reported.has(id)) continue;
      reported.add(id);
      out.push({ type: 'duplicate-in-window', session: s.key, message: `read op ${e.id} shows turn ${id} twice in its window`, ops: [e.id] });
    }
  }
}

function allDistinct(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) for (let j = 0; j < i; j++) if (ids[i] === ids[j]) return false;
  return true;
}

/** Per epoch: once a session expired or was deleted, its list restarts and a turn id may apply anew. */
function appliedTwice(s: SessionIndex, out: Anomaly[]): void {
  for (const epoch of s.epochs) appliedTwiceIn(s.key, epoch, out);
}

function appliedTwiceIn(key: string, epoch: readonly HistoryEntry[], out: Anomaly[]): void {
  const applied = new Map<string, HistoryEntry>();
  for (const e of epoch) {
    if (e.op !== 'append' || e.outcome !== 'ok' || e.applied !== true || e.turnId === undefined) continue;
    const first = applied.get(e.turnId);
    if (!first) {
      applied.set(e.turnId, e);
      continue;
    }
    out.push({
      type: 'applied-twice',
      session: key,
      message: `turn ${e.turnId} was acknowledged as applied by op ${first.id} and again by op ${e.id} (a replay must answer applied: false)`,
      ops: [first.id, e.id],
    });
  }
}

function countJumps(key: string, epoch: readonly HistoryEntry[], ambiguous: readonly HistoryEntry[], opts: ResolvedOptions, out: Anomaly[]): void {
  // A write that overlapped a delete is in no epoch, yet it may have landed in this one (a
  // timed-out append stays open for seconds, long enough to span a delete).
  const writes = epoch.filter(possiblyApplied);
  const spanning = ambiguous.filter(possiblyApplied);
  if (spanning.length) {
    writes.push(...spanning);
    writes.sort(byStart);
  }
  const starts = writes.map((w) => w.startMs);
  // An unknown write may land any time after it was sent, so it "ends" at infinity.
  const ends = writes.map((w) => (w.outcome === 'ok' ? w.endMs : Infinity)).sort((a, b) => a - b);
  const byTurn = new Map<string, HistoryEntry[]>();
  for (const w of writes) {
    if (w.turnId === undefined) continue;
    const a = byTurn.get(w.turnId);
    if (a) a.push(w);
    else byTurn.set(w.turnId, [w]);
  }
  const lastSeen = new Map<number, { entry: HistoryEntry; count: number }>();
  for (const e of epoch) {
    if (e.op === 'append' && e.outcome === 'ok' && e.applied === true && e.turnCount !== undefined && e.turnId !== undefined) {
      const prev = lastSeen.get(e.vu);
      if (prev && prev.entry.endMs <= e.startMs && e.turnCount - prev.count >= 2) {
        const from = prev.entry.startMs;
        const overlapping = upperBound(starts, e.endMs) - lowerBound(ends, from);
        const sameTurn = (byTurn.get(e.turnId) ?? []).filter((w) => w.startMs <= e.endMs && (w.outcome !== 'ok' || w.endMs >= from)).length;
        // prev's own append is already inside prev.count.
        const prevItself = possiblyApplied(prev.entry) && prev.entry.turnId !== e.turnId ? 1 : 0;
        if (overlapping - sameTurn - prevItself === 0) {
          out.push({
            type: 'count-jump',
            session: key,
            message: `append op ${e.id} of turn ${e.turnId} moved turnCount from ${prev.count} (op ${prev.entry.id}) to ${e.turnCount} with no other append in between`,
            ops: [prev.entry.id, e.id],
          });
        }
      }
    }
    const seen = trustedCount(e, opts);
    if (seen !== undefined) lastSeen.set(e.vu, { entry: e, count: seen });
  }
}

/** A count this client may rely on: its own acknowledged append, or a strong normal-mode read. */
function trustedCount(e: HistoryEntry, opts: ResolvedOptions): number | undefined {
  if (e.op === 'append') return e.outcome === 'ok' && e.mode !== 'degraded' ? e.turnCount : undefined;
  const o = observationOf(e, opts);
  return o && !o.degraded && o.consistency === 'strong' ? o.count : undefined;
}
