/**
 * Phantom writes: a read shows a turn that no append could have put there: every append of that
 * turn id to this session definitely failed, none was ever made, or none had been sent yet when
 * the read ended. Timed-out (`unknown`) appends may have happened, so they never make a phantom.
 * A turn id appended to another session or tenant and shown here is a phantom too (a leak).
 */
import type { ResolvedOptions, SeededSession } from './options.ts';
import { observationOf, possiblyApplied, sessionKey, type SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export function checkPhantomWrites(sessions: readonly SessionIndex[], opts: ResolvedOptions, seeded: readonly SeededSession[] = []): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const seededIds = new Map<string, string[]>();
  for (const sd of seeded) seededIds.set(sessionKey(sd), [...(seededIds.get(sessionKey(sd)) ?? []), ...sd.turnIds]);
  for (const s of sessions) {
    // Seeded turns were in the store before anything was sent.
    const firstSentMs = new Map<string, number>((seededIds.get(s.key) ?? []).map((id) => [id, -Infinity]));
    const failed = new Map<string, number[]>();
    for (const e of s.entries) {
      if (e.op !== 'append' || e.turnId === undefined) continue;
      if (possiblyApplied(e)) firstSentMs.set(e.turnId, Math.min(firstSentMs.get(e.turnId) ?? Infinity, e.startMs));
      else {
        const f = failed.get(e.turnId);
        if (f) f.push(e.id);
        else failed.set(e.turnId, [e.id]);
      }
    }
    const reported = new Set<string>();
    for (const e of s.entries) {
      const o = observationOf(e, opts);
      if (!o) continue;
      for (const id of o.ids) {
        const sentMs = firstSentMs.get(id);
        if (sentMs !== undefined && sentMs <= e.endMs) continue;
        if (reported.has(id)) continue;
        reported.add(id);
        const fails = failed.get(id) ?? [];
        const why =
          sentMs !== undefined
            ? `its first append was sent only after the read ended`
            : fails.length > 0
              ? `every append of it definitely failed (${fails.length})`
              : `no append of it to this session was ever made`;
        anomalies.push({
          type: 'phantom-write',
          session: s.key,
          message: `read op ${e.id} shows turn ${id}, but ${why}`,
          ops: [e.id, ...fails.slice(0, 5)],
        });
      }
    }
  }
  return anomalies;
}
