/**
 * Divergence: two reads of one session that are not prefix-compatible (a forked session, split
 * brain, a lost update overwritten by a concurrent writer).
 *
 * Reads return the tail window, so compare by position rather than by list: a read with
 * turnCount c and window w says w[i] sits at position c - |w| + i. Every read of an epoch must
 * agree on every position they both show. One pass, one map position → (turn id, first read).
 */
import type { ResolvedOptions } from './options.ts';
import { observationOf, type SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export function checkDivergence(sessions: readonly SessionIndex[], opts: ResolvedOptions): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const atPosition = new Map<number, { turnId: string; readId: number }>();
      const reported = new Set<string>();
      for (const e of epoch) {
        const o = observationOf(e, opts);
        if (!o || o.ids.length === 0) continue;
        const first = o.count - o.ids.length;
        if (first < 0) {
          anomalies.push({
            type: 'window-exceeds-count',
            session: s.key,
            message: `read op ${e.id} shows ${o.ids.length} turns but turnCount ${o.count}`,
            ops: [e.id],
          });
          continue;
        }
        for (let i = 0; i < o.ids.length; i++) {
          const pos = first + i;
          const id = o.ids[i]!;
          const known = atPosition.get(pos);
          if (!known) {
            atPosition.set(pos, { turnId: id, readId: e.id });
            continue;
          }
          if (known.turnId === id) continue;
          // One anomaly per fork (pair of competing turns), not one per read that sees it.
          const fork = `${pos}\u0000${known.turnId}\u0000${id}`;
          if (!reported.has(fork)) {
            reported.add(fork);
            anomalies.push({
              type: 'divergence',
              session: s.key,
              message: `at position ${pos} read op ${known.readId} shows turn ${known.turnId} but read op ${e.id} shows turn ${id}`,
              ops: [known.readId, e.id],
            });
          }
          break;
        }
      }
    }
  }
  return anomalies;
}
