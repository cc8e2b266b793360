/**
 * Session guarantees (Terry et al.), per client: a client is a VU, its session is one epoch of one
 * service session.
 *
 *  - read-your-writes: a read shows at least the turnCount of the client's own acknowledged
 *    appends, and holds its own turns whose positions are inside the window;
 *  - monotonic-reads: a read shows at least the turnCount of the client's previous reads;
 *  - monotonic-writes: the client's acknowledged appends take increasing positions, and no window
 *    shows them in the other order;
 *  - writes-follow-reads: an applied append sits after every turn the client had read.
 *
 * The read guarantees depend on the read mode: strong reads are held to them always; bounded
 * reads only when the expectation is older than the staleness bound (lag = read start - end of
 * the op that set it); eventual and degraded reads promise nothing. The write guarantees hold in
 * every mode. Only ops that ended before the current one started count as "before".
 */
import type { HistoryEntry } from '../record/history.ts';
import type { ResolvedOptions } from './options.ts';
import { coverStart, observationOf, type Observation, type SessionIndex } from './sessions.ts';
import { fmt } from './staleness.ts';
import type { Anomaly } from './types.ts';

export interface SessionGuaranteeAnomalies {
  readYourWrites: Anomaly[];
  monotonicReads: Anomaly[];
  monotonicWrites: Anomaly[];
  writesFollowReads: Anomaly[];
}

interface Ack {
  entry: HistoryEntry;
  count: number;
  /** Own position when the answer said applied: true. */
  pos?: number;
}

export function checkSessionGuarantees(sessions: readonly SessionIndex[], opts: ResolvedOptions): SessionGuaranteeAnomalies {
  const out: SessionGuaranteeAnomalies = { readYourWrites: [], monotonicReads: [], monotonicWrites: [], writesFollowReads: [] };
  for (const s of sessions) {
    for (const epoch of s.epochs) {
      const byVu = new Map<number, HistoryEntry[]>();
      for (const e of epoch) {
        const g = byVu.get(e.vu);
        if (g) g.push(e);
        else byVu.set(e.vu, [e]);
      }
      for (const ops of byVu.values()) checkClient(s.key, ops, opts, out);
      windowOrder(s.key, epoch, opts, out.monotonicWrites);
    }
  }
  return out;
}

function checkClient(key: string, ops: readonly HistoryEntry[], opts: ResolvedOptions, out: SessionGuaranteeAnomalies): void {
  let maxRead: Observation | undefined;
  let maxAck: Ack | undefined;
  let lastApplied: Ack | undefined;
  const ownApplied: Ack[] = [];
  const pending: HistoryEntry[] = [];

  const settle = (e: HistoryEntry): void => {
    if (e.op === 'read') {
      const o = observationOf(e, opts);
      if (o && !o.degraded && (!maxRead || o.count > maxRead.count)) maxRead = o;
      return;
    }
    if (e.op !== 'append' || e.outcome !== 'ok' || e.turnCount === undefined) return;
    const ack: Ack = { entry: e, count: e.turnCount };
    if (e.applied === true) {
      ack.pos = e.turnCount - 1;
      ownApplied.push(ack);
      lastApplied = ack;
    }
    if (!maxAck || ack.count > maxAck.count) maxAck = ack;
  };

  for (const e of ops) {
    // Ops still in flight when e started are not "before" e.
    if (pending.some((p) => p.endMs <= e.startMs)) {
      const done = pending.filter((p) => p.endMs <= e.startMs).sort((a, b) => a.endMs - b.endMs);
      for (const d of done) settle(d);
      pending.splice(0, pending.length, ...pending.filter((p) => p.endMs > e.startMs));
    }
    if (e.op === 'read') {
      const o = observationOf(e, opts);
      if (o && !o.degraded && o.consistency !== 'eventual') checkRead(key, o, maxRead, maxAck, ownApplied, opts, out);
    } else if (e.op === 'append' && e.outcome === 'ok' && e.applied === true && e.turnCount !== undefined) {
      if (lastApplied && lastApplied.count >= e.turnCount) {
        out.monotonicWrites.push({
          type: 'monotonic-writes',
          session: key,
          message: `append op ${e.id} was applied at turnCount ${e.turnCount}, not after the client's earlier append op ${lastApplied.entry.id} (turnCount ${lastApplied.count})`,
          ops: [lastApplied.entry.id, e.id],
        });
      }
      if (maxRead && maxRead.count >= e.turnCount) {
        out.writesFollowReads.push({
          type: 'writes-follow-reads',
          session: key,
          message: `append op ${e.id} was applied at position ${e.turnCount - 1}, though the client had read ${maxRead.count} turns (op ${maxRead.entry.id})`,
          ops: [maxRead.entry.id, e.id],
        });
      }
    }
    pending.push(e);
  }
}

function checkRead(
  key: string,
  o: Observation,
  maxRead: Observation | undefined,
  maxAck: Ack | undefined,
  ownApplied: readonly Ack[],
  opts: ResolvedOptions,
  out: SessionGuaranteeAnomalies,
): void {
  const e = o.entry;
  const due = (sinceMs: number): boolean => o.consistency === 'strong' || e.startMs - sinceMs > opts.stalenessBoundMs;
  const lagOf = (sinceMs: number): string => `${fmt(Math.max(0, e.startMs - sinceMs))} ms after`;
  if (maxAck && maxAck.count > o.count && due(maxAck.entry.endMs)) {
    out.readYourWrites.push({
      type: 'read-your-writes',
      session: key,
      message: `${o.consistency} read op ${e.id} shows turnCount ${o.count}, ${lagOf(maxAck.entry.endMs)} the client's append op ${maxAck.entry.id} was acknowledged at turnCount ${maxAck.count}`,
      ops: [maxAck.entry.id, e.id],
    });
  } else {
    const windowStart = coverStart(o, opts.windowTurns);
    // Own turns are acknowledged in position order, so only the newest few can be in the window.
    let ids: Set<string> | undefined;
    for (let i = ownApplied.length - 1; i >= 0; i--) {
      const a = ownApplied[i]!;
      if (a.pos! < windowStart) break;
      if (a.pos! >= o.count || !due(a.entry.endMs)) continue;
      ids ??= new Set(o.ids);
      if (ids.has(a.entry.turnId!)) continue;
      out.readYourWrites.push({
        type: 'read-your-writes',
        session: key,
        message: `${o.consistency} read op ${e.id} does not show the client's turn ${a.entry.turnId} (op ${a.entry.id}, position ${a.pos}) inside its window [${windowStart}, ${o.count})`,
        ops: [a.entry.id, e.id],
      });
      break;
    }
  }
  if (maxRead && maxRead.count > o.count && due(maxRead.entry.endMs)) {
    out.monotonicReads.push({
      type: 'monotonic-reads',
      session: key,
      message: `${o.consistency} read op ${e.id} shows turnCount ${o.count}, ${lagOf(maxRead.entry.endMs)} the client's read op ${maxRead.entry.id} showed ${maxRead.count}`,
      ops: [maxRead.entry.id, e.id],
    });
  }
}

/** A window that shows one client's turns out of the order it made them (acknowledged before sent). */
function windowOrder(key: string, epoch: readonly HistoryEntry[], opts: ResolvedOptions, out: Anomaly[]): void {
  const acked = new Map<string, HistoryEntry>();
  for (const e of epoch) if (e.op === 'append' && e.outcome === 'ok' && e.turnId !== undefined && !acked.has(e.turnId)) acked.set(e.turnId, e);
  if (acked.size === 0) return;
  const reported = new Set<string>();
  // One map, emptied per read: a map per read is the pass's biggest allocation.
  const latestByVu = new Map<number, HistoryEntry>();
  for (const e of epoch) {
    const o = observationOf(e, opts);
    if (!o || o.ids.length < 2) continue;
    latestByVu.clear();
    for (const id of o.ids) {
      const w = acked.get(id);
      if (!w) continue;
      const before = latestByVu.get(w.vu);
      // `before` sits earlier in the window, yet `w` was acknowledged before `before` was sent.
      if (before && w.endMs <= before.startMs) {
        const pair = `${before.id}:${w.id}`;
        if (!reported.has(pair)) {
          reported.add(pair);
          out.push({
            type: 'monotonic-writes',
            session: key,
            message: `read op ${e.id} shows turn ${before.turnId} (op ${before.id}) before turn ${w.turnId} (op ${w.id}), which the same client had written first`,
            ops: [w.id, before.id, e.id],
          });
        }
      }
      if (!before || w.startMs > before.startMs) latestByVu.set(w.vu, w);
    }
  }
}
