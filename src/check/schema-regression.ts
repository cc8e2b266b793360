/**
 * Schema regression: a session's schemaVersion going backwards. Any answer (read or append) that
 * shows a lower version than an answer which had completed before it started is a regression:
 * an old instance downgraded or overwrote newer state instead of refusing it with 409. Degraded
 * answers (flagged fallbacks, e.g. an empty view in the instance's own version) are left out.
 * Optionally, every session touched must end at the expected (newest) version.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

/** Answers that show the stored version: a degraded answer is the instance's fallback, not the store's state. */
function versioned(e: HistoryEntry): boolean {
  return e.outcome === 'ok' && e.schemaVersion !== undefined && e.status !== 404 && e.mode !== 'degraded';
}

export function checkSchemaRegression(sessions: readonly SessionIndex[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const answers = epoch.filter(versioned); // sorted by start
      const byEnd = [...answers].sort((a, b) => a.endMs - b.endMs);
      let j = 0;
      let highest: HistoryEntry | undefined;
      let reported = 0;
      for (const e of answers) {
        while (j < byEnd.length && byEnd[j]!.endMs < e.startMs) {
          const c = byEnd[j++]!;
          if (!highest || c.schemaVersion! > highest.schemaVersion!) highest = c;
        }
        if (highest && e.schemaVersion! < highest.schemaVersion! && reported++ < 5) {
          anomalies.push({
            type: 'schema-regression',
            session: s.key,
            message: `${e.op} op ${e.id} answered with schemaVersion ${e.schemaVersion} after op ${highest.id} had shown ${highest.schemaVersion}${e.instance ? ` (instance ${e.instance})` : ''}`,
            ops: [highest.id, e.id],
          });
        }
      }
    }
  }
  return anomalies;
}

export function checkFinalSchemaVersion(sessions: readonly SessionIndex[], expected: number): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const s of sessions) {
    let last: HistoryEntry | undefined;
    for (const e of s.entries) if (versioned(e) && (!last || e.endMs >= last.endMs)) last = e;
    if (last && last.schemaVersion !== expected) {
      anomalies.push({
        type: 'not-at-final-schema-version',
        session: s.key,
        message: `the session's last answer (op ${last.id}) shows schemaVersion ${last.schemaVersion}, expected ${expected}`,
        ops: [last.id],
      });
    }
  }
  return anomalies;
}
