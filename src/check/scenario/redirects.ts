/**
 * redirects-followed: while a cluster moves slots (resharding), the store is healthy: every key is
 * served by some primary, only its address changes (ASK while a slot moves, MOVED after). A client
 * that follows the redirects answers every request normally; one that does not turns them into
 * errors. So here, unlike under an outage, a 503 or a degraded answer is itself the anomaly.
 */
import type { HistoryEntry } from '../../record/history.ts';
import { sessionKey } from '../sessions.ts';
import type { Anomaly, InvariantResult } from '../types.ts';

export function checkRedirectsFollowed(history: readonly HistoryEntry[]): InvariantResult {
  const bad = history.filter((e) => e.status >= 500 || (e.outcome === 'ok' && e.mode === 'degraded'));
  const anomalies: Anomaly[] = bad.slice(0, 20).map((e) => ({
    type: 'redirect-not-followed',
    session: sessionKey(e),
    message: `${e.op} op ${e.id} got ${e.status}${e.code ? ` ${e.code}` : ''}${e.mode === 'degraded' ? ' (degraded)' : ''} while the cluster was healthy: a moved slot (MOVED/ASK) was not followed`,
    ops: [e.id],
  }));
  if (bad.length > anomalies.length) anomalies.push({ type: 'redirect-not-followed', message: `… and ${bad.length - anomalies.length} more such answers`, ops: [] });
  return {
    name: 'redirects-followed',
    holds: bad.length === 0,
    description: 'While slots move between shards, every answer is normal: no 5xx (503 included) and no degraded answer, because a slot that moved is still served and MOVED and ASK must be followed.',
    anomalies,
  };
}
