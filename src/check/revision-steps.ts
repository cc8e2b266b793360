/**
 * `revision` rises by exactly one per applied turn, and `turnCount` counts applied turns: the
 * contract's two counters, checked against each other and against what the client sent.
 *
 *  - drift: within one session epoch, `revision - turnCount` is the same in every answer (both
 *    move by one per applied turn, so their difference cannot change). A revision that skips, repeats
 *    or moves on a replay shows up as a second offset;
 *  - overcount: no answer counts more turns than appends that could have been applied before it
 *    ended (acknowledged or unknown appends with distinct turn ids, plus seeded turns);
 *  - replay: an idempotent replay of an acknowledged turn never answers a turnCount below the one
 *    its first acknowledgement gave (a replay that re-applies is a duplicate: no-duplicates).
 */
import type { HistoryEntry } from '../record/history.ts';
import type { SessionIndex } from './sessions.ts';
import type { Anomaly } from './types.ts';

export interface RevisionStepsResult {
  anomalies: Anomaly[];
  /** Answers that carried both counters (the evidence). */
  answersChecked: number;
  /** Replays of acknowledged turns whose answers were checked. */
  replaysChecked: number;
}

const answered = (e: HistoryEntry) => e.outcome === 'ok' && e.status === 200 && e.revision !== undefined && e.turnCount !== undefined;

export function checkRevisionSteps(sessions: readonly SessionIndex[], seededTurns: ReadonlyMap<string, number> = new Map()): RevisionStepsResult {
  const anomalies: Anomaly[] = [];
  let answersChecked = 0;
  let replaysChecked = 0;
  for (const s of sessions) {
    s.epochs.forEach((epoch, i) => {
      answersChecked += checkDrift(s.key, epoch, anomalies);
      checkOvercount(s.key, epoch, i === 0 ? (seededTurns.get(s.key) ?? 0) : 0, anomalies);
      replaysChecked += checkReplays(s.key, epoch, anomalies);
    });
  }
  return { anomalies, answersChecked, replaysChecked };
}

function checkDrift(key: string, epoch: readonly HistoryEntry[], out: Anomaly[]): number {
  let first: HistoryEntry | undefined;
  let checked = 0;
  for (const e of epoch) {
    if (!answered(e) || e.mode === 'degraded') continue;
    checked++;
    if (!first) {
      first = e;
      continue;
    }
    const want = first.revision! - first.turnCount!;
    const got = e.revision! - e.turnCount!;
    if (got !== want) {
      out.push({
        type: 'revision-drift',
        session: key,
        message: `op ${first.id} answered revision ${first.revision} at turnCount ${first.turnCount}, op ${e.id} revision ${e.revision} at turnCount ${e.turnCount}: revision moved ${got > want ? 'more' : 'less'} than one per applied turn`,
        ops: [first.id, e.id],
      });
      return checked; // one per session epoch: every later answer repeats the same drift
    }
  }
  return checked;
}

function checkOvercount(key: string, epoch: readonly HistoryEntry[], seeded: number, out: Anomaly[]): void {
  // Appends sorted by start: the distinct turn ids whose append started before an answer ended.
  const appends = epoch.filter((e) => e.op === 'append' && e.outcome !== 'fail' && e.turnId !== undefined).sort((a, b) => a.startMs - b.startMs);
  const distinct = new Set<string>();
  let j = 0;
  for (const e of [...epoch].filter(answered).sort((a, b) => a.endMs - b.endMs)) {
    while (j < appends.length && appends[j]!.startMs <= e.endMs) distinct.add(appends[j++]!.turnId!);
    const possible = distinct.size + seeded;
    if (e.turnCount! > possible) {
      out.push({
        type: 'turncount-overcount',
        session: key,
        message: `op ${e.id} answered turnCount ${e.turnCount}, but only ${possible} distinct turns could have been applied by then`,
        ops: [e.id],
      });
      return;
    }
  }
}

function checkReplays(key: string, epoch: readonly HistoryEntry[], out: Anomaly[]): number {
  const firstAck = new Map<string, HistoryEntry>();
  let checked = 0;
  for (const e of [...epoch].sort((a, b) => a.startMs - b.startMs)) {
    if (e.op !== 'append' || e.turnId === undefined || !answered(e) || e.mode === 'degraded') continue;
    const ack = firstAck.get(e.turnId);
    if (!ack) {
      firstAck.set(e.turnId, e);
      continue;
    }
    if (ack.endMs > e.startMs) continue; // concurrent with the first: either may be the one applied
    checked++;
    // A replay answering applied:true is a duplicate (no-duplicates reports it); here, its count.
    if (e.turnCount! < ack.turnCount!) {
      out.push({
        type: 'replay-count',
        session: key,
        message: `the replay op ${e.id} of turn ${e.turnId} answered turnCount ${e.turnCount}, below the ${ack.turnCount} its first acknowledgement (op ${ack.id}) gave`,
        ops: [ack.id, e.id],
      });
    }
  }
  return checked;
}
