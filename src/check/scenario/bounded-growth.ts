/**
 * Invariants of the long-session scenario: state stays under its cap, latency does not grow with
 * the session, keys expire, oversized turns change nothing, and pinned facts survive compaction.
 * Each reads the client's history; the TTL and size checks also read the store snapshot.
 */
import { CONTRACT_PROBLEMS } from '../../contract/wire.ts';
import type { HistoryEntry } from '../../record/history.ts';
import type { Anomaly, InvariantResult, StoreSnapshot } from '../types.ts';
import { foldOver, type HistoryFold } from '../history-fold.ts';
import { percentile } from '../sessions.ts';

const serviceMs = (e: HistoryEntry) => e.endMs - e.startMs;
const MAX_LISTED = 50;

const byFirstOp = (a: Anomaly, b: Anomaly) => (a.ops[0] ?? Infinity) - (b.ops[0] ?? Infinity);

function result(name: string, description: string, anomalies: Anomaly[]): InvariantResult {
  const listed = anomalies.slice(0, MAX_LISTED);
  if (anomalies.length > MAX_LISTED) listed.push({ type: 'more', message: `and ${anomalies.length - MAX_LISTED} more`, ops: [] });
  return { name, holds: anomalies.length === 0, description, anomalies: listed };
}

/** Every size the service reported and every stored value stay within the cap. */
export function checkBytesWithinCap(history: readonly HistoryEntry[], store: readonly StoreSnapshot[], capBytes: number): InvariantResult {
  return foldOver(bytesWithinCapFold(store, capBytes), history);
}

/** checkBytesWithinCap as a fold: each session's largest reported size over the cap (the first such read of the largest). */
export function bytesWithinCapFold(store: readonly StoreSnapshot[], capBytes: number): HistoryFold {
  // By session, with the id of its first read over the cap: sessions are listed in that order.
  const worst = new Map<string, { first: number; e: HistoryEntry }>();
  return {
    add(part) {
      for (const e of part) {
        if (e.bytes === undefined || e.bytes <= capBytes) continue;
        const w = worst.get(e.session);
        if (!w) worst.set(e.session, { first: e.id, e });
        else if ((w.e.bytes ?? 0) < e.bytes) w.e = e;
      }
    },
    finish() {
      const anomalies: Anomaly[] = [...worst.values()]
        .sort((a, b) => a.first - b.first)
        .map(({ e }) => ({ type: 'state-over-cap', session: e.session, message: `session ${e.session} reported ${e.bytes} bytes of state; the cap is ${capBytes}`, ops: [e.id] }));
      for (const s of store) {
        if (s.bytes > capBytes) anomalies.push({ type: 'stored-over-cap', session: s.session, message: `the store holds ${s.bytes} bytes for ${s.tenant}/${s.session}; the cap is ${capBytes}`, ops: [] });
      }
      return result('bytes-within-cap', `Stored state per session never exceeds the cap (${capBytes} bytes), as reported by the service and as held in the store.`, anomalies);
    },
  };
}

/** checkTtlSet as a fold: it reads the store snapshot, nothing of the history. */
export function ttlSetFold(store: readonly StoreSnapshot[]): HistoryFold {
  return { add: () => {}, finish: () => checkTtlSet(store) };
}

/** Every session key in the store has a TTL. */
export function checkTtlSet(store: readonly StoreSnapshot[]): InvariantResult {
  const anomalies: Anomaly[] = store
    .filter((s) => s.ttlSeconds < 0)
    .map((s) => ({ type: 'no-ttl', session: s.session, message: `${s.tenant}/${s.session} has no TTL: it would live forever`, ops: [] }));
  return result('ttl-set', 'Every session key in the store has a TTL, so abandoned sessions do not accumulate.', anomalies);
}

/**
 * Reads of sessions left idle past their TTL (with a second of slack) find nothing. A degraded
 * answer is no evidence either way (it may come from a cache while the store is unreachable).
 * With no TTL (`noTtl`), the consequence is measured instead: how many idle sessions the backend
 * still holds, for how long, and how many bytes they keep.
 */
export function checkIdleExpired(history: readonly HistoryEntry[], idlePrefix: string, ttlSeconds: number, noTtl?: 'none' | 'undeclared'): InvariantResult {
  return foldOver(idleExpiredFold(idlePrefix, ttlSeconds, noTtl), history);
}

/** checkIdleExpired as a fold: a part holds each of its sessions whole, so its idle sessions' last writes are known once it is read. */
export function idleExpiredFold(idlePrefix: string, ttlSeconds: number, noTtl?: 'none' | 'undeclared'): HistoryFold {
  let idleSessions = 0;
  let checked = 0;
  const anomalies: Anomaly[] = [];
  // noTtl: each idle session still answering, its last such read, and how long it had been idle then.
  const alive: { first: number; e: HistoryEntry; idleMs: number }[] = [];
  return {
    add(part) {
      const lastWrite = new Map<string, number>();
      for (const e of part) if (e.op === 'append' && e.session.startsWith(idlePrefix) && e.outcome !== 'fail') lastWrite.set(e.session, Math.max(lastWrite.get(e.session) ?? 0, e.endMs));
      idleSessions += lastWrite.size;
      if (noTtl) {
        const held = new Map<string, { first: number; e: HistoryEntry; idleMs: number }>();
        for (const e of part) {
          if (e.op !== 'read' || !e.session.startsWith(idlePrefix) || e.outcome !== 'ok' || e.mode === 'degraded' || e.status !== 200) continue;
          const w = lastWrite.get(e.session);
          if (w === undefined || e.startMs <= w) continue;
          const h = held.get(e.session);
          if (h) Object.assign(h, { e, idleMs: e.startMs - w });
          else held.set(e.session, { first: e.id, e, idleMs: e.startMs - w });
        }
        alive.push(...held.values());
        return;
      }
      for (const e of part) {
        if (e.op !== 'read' || !e.session.startsWith(idlePrefix) || e.outcome !== 'ok' || e.mode === 'degraded') continue;
        const written = lastWrite.get(e.session);
        if (written === undefined || e.startMs < written + ttlSeconds * 1000 + 1000) continue;
        checked++;
        if (e.status !== 404) anomalies.push({ type: 'idle-session-alive', session: e.session, message: `session ${e.session} was idle ${((e.startMs - written) / 1000).toFixed(1)} s (TTL ${ttlSeconds} s) and still answered ${e.status}`, ops: [e.id] });
      }
    },
    finish() {
      if (noTtl) {
        const found: Anomaly[] = [];
        if (alive.length > 0) {
          const held = [...alive].sort((a, b) => a.first - b.first);
          const idleS = Math.min(...held.map((h) => h.idleMs / 1000));
          const bytes = held.reduce((n, h) => n + (h.e.bytes ?? 0), 0);
          found.push({
            type: 'idle-never-expire',
            message: `idle sessions never expire: ${held.length} of ${idleSessions} idle sessions still held after ${idleS.toFixed(1)} s${bytes ? `, ${bytes.toLocaleString('en-US')} bytes` : ''} (${noTtl === 'none' ? 'the backend declares no TTL' : 'no TTL declared'})`,
            ops: held.map((h) => h.e.id),
          });
        }
        return result('idle-expired', `Sessions left idle are gone after their TTL (${noTtl === 'none' ? 'the backend declares none' : 'none declared'}).`, found);
      }
      const found = [...anomalies].sort(byFirstOp);
      if (checked === 0 && idleSessions > 0) found.push({ type: 'not-observed', message: `no read of an idle session came after its TTL (${ttlSeconds} s): expiry was not observed`, ops: [] });
      return result('idle-expired', `Sessions idle longer than their TTL (${ttlSeconds} s) are gone.`, found);
    },
  };
}

/** How the long-session scenario marks a turn it sends over the size limit. */
export const OVERSIZED_SUFFIX = '-oversized';

/** Appends marked oversized (turnId ending "-oversized") are refused with 413 and never appear. */
export function checkOversizedRejected(history: readonly HistoryEntry[]): InvariantResult {
  return foldOver(oversizedRejectedFold(), history);
}

/**
 * checkOversizedRejected as a fold. Any session's window may show an oversized turn, so it keeps
 * the oversized appends and, of every read, only the window ids marked oversized: which of those
 * were sent is known once every part is read.
 */
export function oversizedRejectedFold(): HistoryFold {
  const oversized: HistoryEntry[] = [];
  const shown: { e: HistoryEntry; ids: string[] }[] = [];
  return {
    add(part) {
      for (const e of part) {
        if (e.op === 'append' && e.turnId?.endsWith(OVERSIZED_SUFFIX)) oversized.push(e);
        const ids = e.turnIds?.filter((t) => t.endsWith(OVERSIZED_SUFFIX));
        if (ids?.length) shown.push({ e, ids });
      }
    },
    finish() {
      const anomalies: Anomaly[] = [];
      const sent = [...oversized].sort((a, b) => a.id - b.id);
      const ids = new Set(sent.map((e) => e.turnId));
      for (const e of sent) {
        if (e.status !== CONTRACT_PROBLEMS.state_too_large) anomalies.push({ type: 'oversized-accepted', session: e.session, message: `an oversized turn got ${e.status}${e.code ? ` (${e.code})` : ''}, not 413 state_too_large`, ops: [e.id] });
      }
      for (const { e, ids: marked } of [...shown].sort((a, b) => a.e.id - b.e.id)) {
        const seen = marked.find((t) => ids.has(t));
        if (seen) anomalies.push({ type: 'oversized-stored', session: e.session, message: `a read shows the oversized turn ${seen}`, ops: [e.id] });
      }
      if (sent.length === 0) anomalies.push({ type: 'not-observed', message: 'the run sent no oversized turn', ops: [] });
      return result('oversized-rejected', 'A turn over the size limit gets 413 state_too_large and changes nothing.', anomalies);
    },
  };
}

/**
 * Every acknowledged pinned turn (turnId ending "-pinned") is still named in the session's last
 * summary read (or still in its window).
 */
export function checkPinnedFacts(history: readonly HistoryEntry[]): InvariantResult {
  const { anomalies, checked } = pinnedFactsLost(history);
  return result('pinned-facts-kept', 'Facts the user pinned ("remember: ...") survive compaction: the last summary (or window) still holds them.', [...anomalies, ...pinnedNotObserved(checked)]);
}

/** checkPinnedFacts session by session (sessions are grouped by id): what was lost, and how many pinned turns could be checked. */
export function pinnedFactsLost(history: readonly HistoryEntry[]): { anomalies: Anomaly[]; checked: number } {
  const anomalies: Anomaly[] = [];
  const bySession = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    const list = bySession.get(e.session);
    if (list) list.push(e);
    else bySession.set(e.session, [e]);
  }
  let checked = 0;
  for (const [session, ops] of bySession) {
    const finalRead = ops.filter((e) => e.op === 'read' && e.status === 200 && e.summary !== undefined).sort((a, b) => b.startMs - a.startMs)[0];
    const pinned = ops.filter((e) => e.op === 'append' && e.outcome === 'ok' && e.turnId?.endsWith('-pinned'));
    if (!finalRead || pinned.length === 0) continue;
    for (const p of pinned) {
      if (p.endMs > finalRead.startMs) continue;
      checked++;
      const kept = finalRead.summary!.includes(p.turnId!) || finalRead.turnIds?.includes(p.turnId!);
      if (!kept) anomalies.push({ type: 'pinned-fact-lost', session, message: `pinned turn ${p.turnId} is in neither the summary nor the window of the last read`, ops: [p.id, finalRead.id] });
    }
  }
  return { anomalies, checked };
}

/** With no pinned turn checked in the whole run, the invariant was not observed. */
export function pinnedNotObserved(checked: number): Anomaly[] {
  return checked === 0 ? [{ type: 'not-observed', message: 'no pinned turn was followed by a summary read', ops: [] }] : [];
}

/**
 * Appends do not get slower as a session grows: p99 of each session's last 100 appends is within
 * 1.25× the p99 of the first 100 (plus 2 ms, so scheduler noise on millisecond answers is not read
 * as growth). With `baselineSuffix`, the first 100 are those of a companion session
 * (<session><suffix>) that the scenario grew side by side with the last 100, so both sets meet the
 * same machine at the same moments; otherwise a session's own first 100.
 */
export function checkLatencyFlat(history: readonly HistoryEntry[], opts: LatencyFlatOptions = {}): { result: InvariantResult; firstP99Ms: number; lastP99Ms: number } {
  const fold = latencyFlatFold(opts);
  fold.add(history);
  return fold.measured();
}

export interface LatencyFlatOptions {
  ratio?: number;
  slackMs?: number;
  firstN?: number;
  baselineSuffix?: string;
}

/**
 * checkLatencyFlat as a fold. A companion session may sit in another part, so each session's
 * acknowledged appends are cut, as its part is read, to what the comparison takes: the answer
 * times of its first n and its last n, and their count.
 */
export function latencyFlatFold(opts: LatencyFlatOptions = {}): HistoryFold & { measured(): { result: InvariantResult; firstP99Ms: number; lastP99Ms: number } } {
  const ratio = opts.ratio ?? 1.25;
  const slackMs = opts.slackMs ?? 2;
  const n = opts.firstN ?? 100;
  const suffix = opts.baselineSuffix;
  // Each session's first append (its id orders the sessions as the history met them), head and tail.
  const cut = new Map<string, { first: number; count: number; head: number[]; tail: { id: number; ms: number }[] }>();
  const measured = () => {
    const first: number[] = [];
    const last: { id: number; ms: number }[] = [];
    for (const [session, ops] of [...cut].sort((a, b) => a[1].first - b[1].first)) {
      if (suffix !== undefined && session.endsWith(suffix)) continue;
      const baseline = suffix !== undefined ? cut.get(session + suffix) : ops;
      if (!baseline || baseline.count < n || ops.count < 2 * n) continue;
      first.push(...baseline.head);
      last.push(...ops.tail);
    }
    const pct = (v: number[], p: number) => percentile([...v].sort((a, b) => a - b), p * 100);
    const lastMs = last.map((e) => e.ms);
    const firstP99Ms = pct(first, 0.99);
    const lastP99Ms = pct(lastMs, 0.99);
    const firstP50Ms = pct(first, 0.5);
    const lastP50Ms = pct(lastMs, 0.5);
    const limit = Math.max(firstP99Ms * ratio, firstP99Ms + slackMs);
    // Growth shifts the whole distribution; a tail that moves while the median stays put is the
    // shared machine's noise (a scheduler stall lands on whichever request is running).
    const medianMoved = lastP50Ms > firstP50Ms * ratio + 0.5;
    const anomalies: Anomaly[] = [];
    const baselineText = suffix !== undefined ? `the first ${n} of fresh sessions grown alongside` : `the first ${n}`;
    if (first.length === 0) anomalies.push({ type: 'not-observed', message: `no session had ${2 * n} acknowledged appends${suffix !== undefined ? ` and a companion session *${suffix} with ${n}` : ''}`, ops: [] });
    else if (lastP99Ms > limit && medianMoved) {
      anomalies.push({
        type: 'latency-grows',
        message: `p99 of the last ${n} appends per session is ${lastP99Ms.toFixed(1)} ms against ${firstP99Ms.toFixed(1)} ms for ${baselineText} (limit ${limit.toFixed(1)} ms), and the median moved with it (${lastP50Ms.toFixed(1)} vs ${firstP50Ms.toFixed(1)} ms)`,
        ops: [...last].sort((a, b) => b.ms - a.ms).slice(0, 5).map((e) => e.id),
      });
    }
    return {
      result: result(
        'latency-flat',
        `p99 of a session's last ${n} appends ≤ ${ratio}× the p99 of ${baselineText} (+${slackMs} ms), unless the median stayed put (a tail that moves alone is machine noise); measured p99 ${lastP99Ms.toFixed(1)} vs ${firstP99Ms.toFixed(1)} ms, p50 ${lastP50Ms.toFixed(1)} vs ${firstP50Ms.toFixed(1)} ms.`,
        anomalies,
      ),
      firstP99Ms,
      lastP99Ms,
    };
  };
  return {
    add(part) {
      const bySession = new Map<string, HistoryEntry[]>();
      for (const e of part) {
        if (e.op !== 'append' || e.outcome !== 'ok' || e.turnId?.endsWith('-oversized') || e.turnId?.endsWith('-final')) continue;
        const list = bySession.get(e.session);
        if (list) list.push(e);
        else bySession.set(e.session, [e]);
      }
      for (const [session, ops] of bySession) {
        const first = ops[0]!.id;
        ops.sort((a, b) => a.startMs - b.startMs);
        cut.set(session, { first, count: ops.length, head: ops.slice(0, n).map(serviceMs), tail: ops.slice(-n).map((e) => ({ id: e.id, ms: serviceMs(e) })) });
      }
    },
    finish: () => measured().result,
    measured,
  };
}
