/**
 * DELETE removes a session: a read that starts after a delete was acknowledged, with no append to
 * that session sent in between, answers 404.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export interface DeletesResult {
  anomalies: Anomaly[];
  /** Reads after an acknowledged delete (the evidence). */
  readsChecked: number;
}

export function checkDeletes(sessions: readonly SessionIndex[]): DeletesResult {
  const anomalies: Anomaly[] = [];
  let readsChecked = 0;
  for (const s of sessions) {
    let deleted: HistoryEntry | undefined;
    for (const e of s.entries) {
      if (e.op === 'delete' && e.outcome === 'ok') deleted = e;
      else if (e.op === 'append' && e.outcome !== 'fail') {
        if (deleted && e.startMs < deleted.endMs) continue; // concurrent with the delete: either order (clock ms: same-ms counts as after)
        deleted = undefined;
      } else if (e.op === 'read' && deleted && e.startMs >= deleted.endMs && e.outcome === 'ok' && e.mode !== 'degraded') {
        readsChecked++;
        if (e.status !== 404) {
          anomalies.push({ type: 'delete-ignored', session: s.key, message: `session ${s.key} was deleted (op ${deleted.id}) and a later read (op ${e.id}) answered ${e.status}`, ops: [deleted.id, e.id] });
          deleted = undefined;
        }
      }
    }
  }
  return { anomalies, readsChecked };
}
