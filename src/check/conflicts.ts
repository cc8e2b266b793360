/**
 * Compare-and-set and atomic appends. Two witnesses that the per-session revision is not guarded:
 *  - an If-Match: r append acknowledged as applied at a revision other than r + 1;
 *  - two different turns acknowledged as applied with the same revision (one overwrote the other:
 *    the lost update a read-modify-write without CAS makes).
 */
import { isProblem } from '../contract/wire.ts';
import type { HistoryEntry } from '../record/history.ts';
import type { SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export function checkCas(sessions: readonly SessionIndex[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const atRevision = new Map<number, HistoryEntry>();
      for (const e of epoch) {
        if (e.op !== 'append' || e.outcome !== 'ok' || e.applied !== true || e.revision === undefined) continue;
        if (e.ifMatch !== undefined && e.revision !== e.ifMatch + 1) {
          anomalies.push({
            type: 'if-match-ignored',
            session: s.key,
            message: `append op ${e.id} sent If-Match: ${e.ifMatch} but was applied as revision ${e.revision} (expected ${e.ifMatch + 1} or a 409)`,
            ops: [e.id],
          });
        }
        const other = atRevision.get(e.revision);
        if (other && other.turnId !== e.turnId) {
          anomalies.push({
            type: 'revision-reused',
            session: s.key,
            message: `turns ${other.turnId} (op ${other.id}) and ${e.turnId} (op ${e.id}) were both acknowledged as revision ${e.revision}: one overwrote the other`,
            ops: [other.id, e.id],
          });
        } else if (!other) atRevision.set(e.revision, e);
      }
    }
  }
  return anomalies;
}

/** 409 revision_conflict answers the client saw (compared with the service's conflicts counter). */
export function countRevisionConflicts(history: readonly HistoryEntry[]): number {
  let n = 0;
  for (const e of history) if (isProblem(e, 'revision_conflict')) n++;
  return n;
}
