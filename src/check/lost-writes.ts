/**
 * Lost writes: an acknowledged turn that the last later read of its session neither shows nor
 * counts.
 *
 * For each acknowledged turn we bound its position from below (it cannot sit before the turns
 * the session already had when its first attempt was sent, nor before the position its own
 * `applied: true` answer reported) and ask the witness: the last trustworthy read, started after
 * the acknowledgement, whose window covers that position (a turn overwritten and then compacted
 * away is caught there), else the last trustworthy read after the acknowledgement:
 *
 *   position >= witness.turnCount                 → not counted: lost
 *   position >= witness's window start, not shown → should be in the window: lost
 *   position <  window start                      → compacted into the summary: counted only
 *
 * Trustworthy: not degraded; strong, or bounded and started more than the staleness bound after
 * the acknowledgement. Eventual reads may lag forever, so they never witness. Transient misses
 * that a later read repairs are session-guarantee violations, not lost writes.
 */
import type { HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';
import { coverStart, lowerBound, observationOf, possiblyApplied, type Observation, type SessionIndex } from './sessions.ts';
import type { Anomaly, CheckStats } from './types.ts';

export interface LostWritesResult {
  anomalies: Anomaly[];
  stats: CheckStats['acknowledgedTurns'];
}

export function checkLostWrites(sessions: readonly SessionIndex[], opts: ResolvedOptions): LostWritesResult {
  const anomalies: Anomaly[] = [];
  const stats = { total: 0, seenInWindow: 0, countedOnly: 0, unverified: 0, lost: 0 };
  for (const s of sessions) for (const epoch of s.epochs) checkEpoch(s.key, epoch, opts, anomalies, stats);
  return { anomalies, stats };
}

function checkEpoch(
  key: string,
  epoch: readonly HistoryEntry[],
  opts: ResolvedOptions,
  anomalies: Anomaly[],
  stats: CheckStats['acknowledgedTurns'],
): void {
  let lastStrong: Observation | undefined;
  let lastBounded: Observation | undefined;
  // position → the last read (by start) whose window covers it, per consistency (positions are dense)
  const coverStrong: Array<Observation | undefined> = [];
  const coverBounded: Array<Observation | undefined> = [];
  const counts: Array<{ endMs: number; count: number }> = [];
  const attempts = new Map<string, HistoryEntry[]>();
  for (const e of epoch) {
    const o = observationOf(e, opts);
    if (o && !o.degraded && o.consistency !== 'eventual') {
      counts.push({ endMs: e.endMs, count: o.count });
      if (o.consistency === 'strong') lastStrong = o;
      else lastBounded = o;
      const cover = o.consistency === 'strong' ? coverStrong : coverBounded;
      for (let p = Math.max(0, coverStart(o, opts.windowTurns)); p < o.count; p++) cover[p] = o;
    } else if (o && !o.degraded) {
      counts.push({ endMs: e.endMs, count: o.count });
    }
    if (e.op === 'append' && e.turnId !== undefined) {
      if (e.outcome === 'ok' && e.turnCount !== undefined && e.mode !== 'degraded') counts.push({ endMs: e.endMs, count: e.turnCount });
      let a = attempts.get(e.turnId);
      if (!a) attempts.set(e.turnId, (a = []));
      a.push(e);
    }
  }
  counts.sort((a, b) => a.endMs - b.endMs);
  const ends = counts.map((c) => c.endMs);
  const prefixMax: number[] = [];
  for (let i = 0, m = 0; i < counts.length; i++) prefixMax.push((m = Math.max(m, counts[i]!.count)));
  const idSets = new Map<number, Set<string>>();

  for (const [turnId, tries] of attempts) {
    // One pass, no arrays: this runs once per turn.
    let ack: HistoryEntry | undefined;
    let appliedAck: HistoryEntry | undefined;
    let firstStartMs = Infinity;
    for (const t of tries) {
      if (possiblyApplied(t)) firstStartMs = Math.min(firstStartMs, t.startMs);
      if (t.outcome !== 'ok') continue;
      if (!ack || t.endMs < ack.endMs) ack = t;
      if (!appliedAck && t.applied === true && t.turnCount !== undefined) appliedAck = t;
    }
    if (!ack) continue;
    stats.total++;
    const before = lowerBound(ends, firstStartMs);
    let minPos = before > 0 ? prefixMax[before - 1]! : 0;
    if (appliedAck) minPos = Math.max(minPos, appliedAck.turnCount! - 1);

    // The last read that should show it (its window covers the turn's earliest possible position);
    // failing that, the last read, which must at least count it.
    const witness =
      pickWitness(coverStrong[minPos], coverBounded[minPos], ack.endMs, opts.stalenessBoundMs) ??
      pickWitness(lastStrong, lastBounded, ack.endMs, opts.stalenessBoundMs);
    if (!witness) {
      stats.unverified++;
      continue;
    }
    // A window of a few ids is scanned; a long one gets a set, built once per witness.
    let shown: boolean;
    if (witness.ids.length <= 32) shown = witness.ids.includes(turnId);
    else {
      let ids = idSets.get(witness.entry.id);
      if (!ids) idSets.set(witness.entry.id, (ids = new Set(witness.ids)));
      shown = ids.has(turnId);
    }
    if (shown) {
      stats.seenInWindow++;
      continue;
    }
    const windowStart = coverStart(witness, opts.windowTurns);
    if (minPos < windowStart) {
      stats.countedOnly++;
      continue;
    }
    stats.lost++;
    const why =
      minPos >= witness.count
        ? `turnCount ${witness.count} does not count it (its position is at least ${minPos})`
        : `its position (at least ${minPos}) is inside the window [${windowStart}, ${witness.count}) but the window does not hold it`;
    anomalies.push({
      type: 'lost-write',
      session: key,
      message: `turn ${turnId} acknowledged by op ${ack.id} is missing from the later read op ${witness.entry.id}: ${why}`,
      ops: [ack.id, witness.entry.id],
    });
  }
}

function pickWitness(
  strong: Observation | undefined,
  bounded: Observation | undefined,
  ackEndMs: number,
  boundMs: number,
): Observation | undefined {
  const s = strong && strong.entry.startMs > ackEndMs ? strong : undefined;
  const b = bounded && bounded.entry.startMs > ackEndMs + boundMs ? bounded : undefined;
  if (s && b) return b.entry.startMs > s.entry.startMs ? b : s;
  return s ?? b;
}
