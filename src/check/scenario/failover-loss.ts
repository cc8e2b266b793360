/**
 * Failover invariants. With asynchronous replication, a write the primary acknowledged but had
 * not yet shipped to its replica is gone when the replica is promoted: that is Redis's documented
 * trade-off, not a bug. So instead of no-lost-writes (which would flag every such write), the
 * failover scenario measures the loss and bounds WHERE it may fall:
 *
 *   ack time ─────────────────────────────┬───── kill ──────────────────────────────▶
 *     lost here: violation (the replica   │ grace │  request sent after the kill: the old
 *     had long had time to receive it)    │window │  primary could not have taken it, so a
 *                                         │ (ok)  │  loss here is a violation
 *
 * A write is judged against the last trustworthy read of its session after the failover (strong,
 * not degraded): lost when the read shows the whole session (nothing compacted into the summary)
 * and the turn is not in it. Sessions whose window was compacted cannot prove a loss; they are
 * counted as unverified, and the scenario sizes its window so that none are.
 */
import type { HistoryEntry } from '../../record/history.ts';
import { capAnomalies } from '../cap-anomalies.ts';
import { checkDivergence } from '../divergence.ts';
import { DEFAULTS, resolveOptions } from '../options.ts';
import { indexSessions, normalizeHistory } from '../sessions.ts';
import type { Anomaly, InvariantResult } from '../types.ts';

export const FAILOVER_LOSS_DEFAULTS = {
  /** Acks completed this long before the kill may be lost: the replica may not have them yet. */
  graceMs: 1_000,
  /**
   * A request sent this soon after the fault began may still have reached the old primary (the
   * runner stamps the fault's start a few ms before the kill lands).
   */
  killSlackMs: 250,
} as const;

/** The id the failover scenario gives its failover fault, so the invariants find its window. */
export const FAILOVER_FAULT_ID = 'failover';

export interface FailoverLossOptions {
  /** When the failover fault began (the kill), epoch ms. */
  killAtMs: number;
  graceMs?: number;
  killSlackMs?: number;
}

export type LossClass = 'in-window' | 'before-window' | 'after-failover';

export interface LostAck {
  session: string;
  turnId: string;
  ackOp: number;
  witnessOp: number;
  /** Ack time relative to the kill, ms (negative: before it). */
  ackRelMs: number;
  class: LossClass;
}

export interface FailoverLossMeasure {
  /** Distinct turns acknowledged during the run. */
  acknowledged: number;
  /** Acknowledged turns a full final read could judge. */
  verified: number;
  /** No later trustworthy read, or its window was compacted. */
  unverified: number;
  /** Turns acknowledged inside the grace window (lost or not). */
  ackedInWindow: number;
  lost: LostAck[];
  /** Of the lost acks in the grace window: first and last ack time relative to the kill. */
  window?: { firstRelMs: number; lastRelMs: number; ms: number };
  /** The first acknowledged write sent after the kill, relative to it: when writes came back. */
  writesResumedRelMs?: number;
}

const keyOf = (e: HistoryEntry) => (e.tenant ? `${e.tenant}/${e.session}` : e.session);

function classify(ack: HistoryEntry, o: Required<FailoverLossOptions>): LossClass {
  if (ack.startMs > o.killAtMs + o.killSlackMs) return 'after-failover';
  return ack.endMs >= o.killAtMs - o.graceMs ? 'in-window' : 'before-window';
}

function isWitness(e: HistoryEntry, afterMs: number): boolean {
  if (e.op !== 'read' || e.outcome !== 'ok' || e.mode === 'degraded' || e.startMs <= afterMs) return false;
  if (e.consistency !== undefined && e.consistency !== 'strong') return false;
  return e.status === 404 || e.turnCount !== undefined;
}

export function measureFailoverLoss(history: readonly HistoryEntry[], options: FailoverLossOptions): FailoverLossMeasure {
  const o = { graceMs: FAILOVER_LOSS_DEFAULTS.graceMs, killSlackMs: FAILOVER_LOSS_DEFAULTS.killSlackMs, ...options };
  const acks = new Map<string, HistoryEntry>();
  const witnesses = new Map<string, HistoryEntry>();
  let resumed: HistoryEntry | undefined;
  for (const e of history) {
    if (e.op === 'append' && e.outcome === 'ok' && e.turnId !== undefined) {
      const k = `${keyOf(e)}\u0000${e.turnId}`;
      const seen = acks.get(k);
      if (!seen || e.endMs < seen.endMs) acks.set(k, e);
      if (e.startMs > o.killAtMs + o.killSlackMs && (!resumed || e.endMs < resumed.endMs)) resumed = e;
    }
    if (isWitness(e, o.killAtMs + o.killSlackMs)) {
      const w = witnesses.get(keyOf(e));
      if (!w || e.startMs > w.startMs) witnesses.set(keyOf(e), e);
    }
  }
  const m: FailoverLossMeasure = { acknowledged: acks.size, verified: 0, unverified: 0, ackedInWindow: 0, lost: [] };
  const idSets = new Map<number, Set<string>>();
  for (const ack of acks.values()) {
    const cls = classify(ack, o);
    if (cls === 'in-window') m.ackedInWindow++;
    const w = witnesses.get(keyOf(ack));
    if (!w || w.startMs <= ack.endMs) {
      m.unverified++;
      continue;
    }
    let ids = idSets.get(w.id);
    if (!ids) idSets.set(w.id, (ids = new Set(w.status === 404 ? [] : (w.turnIds ?? []))));
    if (ids.has(ack.turnId!)) {
      m.verified++;
      continue;
    }
    const count = w.status === 404 ? 0 : (w.turnCount ?? 0);
    if (ids.size < count) {
      // Some turns live only in the summary: this one may be among them.
      m.unverified++;
      continue;
    }
    m.verified++;
    m.lost.push({ session: keyOf(ack), turnId: ack.turnId!, ackOp: ack.id, witnessOp: w.id, ackRelMs: ack.endMs - o.killAtMs, class: cls });
  }
  m.lost.sort((a, b) => a.ackRelMs - b.ackRelMs);
  const inWindow = m.lost.filter((l) => l.class === 'in-window');
  if (inWindow.length) {
    const first = inWindow[0]!.ackRelMs;
    const last = inWindow[inWindow.length - 1]!.ackRelMs;
    m.window = { firstRelMs: first, lastRelMs: last, ms: last - first };
  }
  if (resumed) m.writesResumedRelMs = resumed.endMs - o.killAtMs;
  return m;
}

const ms = (v: number) => `${v >= 0 ? '+' : ''}${Math.round(v)} ms`;

/** One line with every figure, for the report's description and first anomaly. */
export function describeFailoverLoss(m: FailoverLossMeasure, graceMs: number = FAILOVER_LOSS_DEFAULTS.graceMs): string {
  const count = (c: LossClass) => m.lost.filter((l) => l.class === c).length;
  const window = m.window ? `window of loss ${Math.round(m.window.ms)} ms (acks from ${ms(m.window.firstRelMs)} to ${ms(m.window.lastRelMs)} relative to the kill)` : 'no window of loss';
  return (
    `${m.lost.length} of ${m.acknowledged} acknowledged writes lost across the failover ` +
    `(${count('in-window')} within the ${graceMs} ms before the kill, of ${m.ackedInWindow} acknowledged there; ` +
    `${count('before-window')} earlier; ${count('after-failover')} sent after the kill); ${window}; ` +
    `${m.verified} verified, ${m.unverified} unverifiable; ` +
    (m.writesResumedRelMs !== undefined ? `writes resumed ${ms(m.writesResumedRelMs)} after the kill.` : 'no write was acknowledged after the kill.')
  );
}

const LOSS_TYPES: Record<LossClass, string> = {
  'in-window': 'lost-in-failover-window',
  'before-window': 'lost-before-failover-window',
  'after-failover': 'lost-after-failover',
};

export function checkFailoverLoss(history: readonly HistoryEntry[], options: FailoverLossOptions | undefined): InvariantResult {
  const name = 'failover-loss-window';
  const base =
    'Acknowledged writes lost when the async replica is promoted are measured and confined to the window just before the kill (the documented async-replication trade-off); a write acknowledged earlier, or sent after the kill, is never lost.';
  if (!options) {
    return { name, holds: false, description: base, anomalies: [{ type: 'no-failover', message: `no failover fault (id "${FAILOVER_FAULT_ID}") was applied in this run, so there is nothing to measure`, ops: [] }] };
  }
  const graceMs = options.graceMs ?? FAILOVER_LOSS_DEFAULTS.graceMs;
  const m = measureFailoverLoss(history, options);
  const summary = describeFailoverLoss(m, graceMs);
  const anomalies: Anomaly[] = [{ type: 'failover-loss-measured', message: summary, ops: m.lost.slice(0, 20).map((l) => l.ackOp) }];
  for (const l of m.lost) {
    anomalies.push({
      type: LOSS_TYPES[l.class],
      session: l.session,
      message: `turn ${l.turnId} acknowledged by op ${l.ackOp} at ${ms(l.ackRelMs)} relative to the kill is missing from the full read op ${l.witnessOp} after the failover`,
      ops: [l.ackOp, l.witnessOp],
    });
  }
  const holds = m.lost.every((l) => l.class === 'in-window');
  return { name, holds, description: `${base} Measured: ${summary}`, anomalies };
}

/**
 * no-divergence over the reads made after the failover only: reads from before it may show turns
 * the promotion lost (that fork is what failover-loss-window measures), but once the new primary
 * answers, every read must agree with every other.
 */
export function checkDivergenceAfterFailover(history: readonly HistoryEntry[], options: FailoverLossOptions | undefined, windowTurns?: number): InvariantResult {
  const name = 'no-divergence-after-failover';
  const description = 'All reads made after the failover are prefix-compatible: once the promoted replica answers, no session forks again.';
  if (!options) return { name, holds: false, description, anomalies: [{ type: 'no-failover', message: `no failover fault (id "${FAILOVER_FAULT_ID}") was applied in this run`, ops: [] }] };
  const after = options.killAtMs + (options.killSlackMs ?? FAILOVER_LOSS_DEFAULTS.killSlackMs);
  const opts = resolveOptions({ windowTurns });
  const anomalies = checkDivergence(indexSessions(normalizeHistory(history.filter((e) => e.startMs > after)), opts), opts);
  return { name, holds: anomalies.length === 0, description, anomalies: capAnomalies(anomalies, DEFAULTS.maxAnomaliesPerInvariant) };
}

/** The failover's kill time from the run's fault windows (the fault with id FAILOVER_FAULT_ID). */
export function failoverFromWindows(windows: ReadonlyArray<{ id: string; startMs: number }>): FailoverLossOptions | undefined {
  const w = windows.find((x) => x.id === FAILOVER_FAULT_ID);
  return w && w.startMs > 0 ? { killAtMs: w.startMs } : undefined;
}
