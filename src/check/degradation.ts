/**
 * Degradation: the service may fall back when its store fails, but it must say so, and it must
 * never answer a store failure with a bare 5xx.
 *  - degradation-flagged: every answer carries a mode (X-State-Mode / body `mode`), and where the
 *    recorder kept both, they agree;
 *  - no-store-5xx: no 5xx other than the contract's 503 (which `allow503` narrows).
 */
import type { HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';
import type { Anomaly } from './types.ts';
import { sessionKey } from './sessions.ts';

export function checkDegradationFlagged(history: readonly HistoryEntry[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const e of history) {
    if (e.status === 0) continue;
    if (e.mode === undefined) {
      anomalies.push({
        type: 'mode-missing',
        session: sessionKey(e),
        message: `${e.op} op ${e.id} (status ${e.status}) carried no state mode: a degraded answer could pass as normal`,
        ops: [e.id],
      });
    } else if (e.bodyMode !== undefined && e.bodyMode !== e.mode) {
      anomalies.push({
        type: 'mode-mismatch',
        session: sessionKey(e),
        message: `${e.op} op ${e.id}: X-State-Mode says ${e.mode} but the body says ${e.bodyMode}`,
        ops: [e.id],
      });
    }
  }
  return anomalies;
}

export function checkNoStore5xx(history: readonly HistoryEntry[], opts: ResolvedOptions): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const e of history) {
    if (e.status < 500) continue;
    if (e.status === 503 && (opts.allow503 === 'all' || (opts.allow503 === 'appends' && e.op === 'append'))) continue;
    const why =
      e.status === 503
        ? `503 is not accepted here (allow503: ${opts.allow503})`
        : "a store failure must degrade (flagged) or answer the contract's 503, never a bare 5xx";
    anomalies.push({
      type: 'store-5xx',
      session: sessionKey(e),
      message: `${e.op} op ${e.id} got ${e.status}${e.code ? ` ${e.code}` : ''}${e.instance ? ` from ${e.instance}` : ''}: ${why}`,
      ops: [e.id],
    });
  }
  return anomalies;
}
