/**
 * Order: turns in a session keep the order in which they were acknowledged. If append A was
 * acknowledged before append B was sent, every window holding both has A before B. A reordered
 * window is named for order, not only reported as a divergence (two reorderings can agree with
 * each other and still both be wrong).
 *
 * One pass per read, right to left: the smallest acknowledgement end among the turns to the right
 * of position i; if it is earlier than the send of turn i, that pair is out of order.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export interface TurnOrderResult {
  anomalies: Anomaly[];
  /** Reads whose window held two or more acknowledged turns (the evidence). */
  readsChecked: number;
}

export function checkTurnOrder(sessions: readonly SessionIndex[]): TurnOrderResult {
  const anomalies: Anomaly[] = [];
  let readsChecked = 0;
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const acked = new Map<string, HistoryEntry>();
      for (const e of epoch) {
        if (e.op === 'append' && e.outcome === 'ok' && e.applied === true && e.turnId !== undefined && !acked.has(e.turnId)) acked.set(e.turnId, e);
      }
      if (acked.size < 2) continue;
      for (const r of epoch) {
        if (r.op !== 'read' || r.outcome !== 'ok' || !r.turnIds || r.turnIds.length < 2) continue;
        const found = outOfOrder(r.turnIds, acked);
        if (found === null) continue;
        readsChecked++;
        if (found === undefined) continue;
        const [earlier, later] = found;
        anomalies.push({
          type: 'reordered-window',
          session: s.key,
          message: `read op ${r.id} shows turn ${later.turnId} before ${earlier.turnId}, but ${earlier.turnId} was acknowledged (op ${earlier.id}) before ${later.turnId} was sent (op ${later.id})`,
          ops: [earlier.id, later.id, r.id],
        });
        break; // one per epoch: a reordered session shows it in every later read
      }
    }
  }
  return { anomalies, readsChecked };
}

/** null: fewer than two acknowledged turns in the window; undefined: in order; else [A, B] with B shown first. */
function outOfOrder(ids: readonly string[], acked: ReadonlyMap<string, HistoryEntry>): [HistoryEntry, HistoryEntry] | undefined | null {
  let known = 0;
  let minRight: HistoryEntry | undefined;
  for (let i = ids.length - 1; i >= 0; i--) {
    const e = acked.get(ids[i]!);
    if (!e) continue;
    known++;
    if (minRight && minRight.endMs < e.startMs) return [minRight, e];
    if (!minRight || e.endMs < minRight.endMs) minRight = e;
  }
  return known < 2 ? null : undefined;
}
