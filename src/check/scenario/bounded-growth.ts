/**
 * Invariants of the long-session scenario: state stays under its cap, latency does not grow with
 * the session, keys expire, oversized turns change nothing, and pinned facts survive compaction.
 * Each reads the client's history; the TTL and size checks also read the store snapshot.
 */
import { CONTRACT_PROBLEMS } from '../../contract/wire.ts';
import type { HistoryEntry } from '../../record/history.ts';
import type { Anomaly, InvariantResult, StoreSnapshot } from '../types.ts';
import { percentile } from '../sessions.ts';

const serviceMs = (e: HistoryEntry) => e.endMs - e.startMs;
const MAX_LISTED = 50;

function result(name: string, description: string, anomalies: Anomaly[]): InvariantResult {
  const listed = anomalies.slice(0, MAX_LISTED);
  if (anomalies.length > MAX_LISTED) listed.push({ type: 'more', message: `and ${anomalies.length - MAX_LISTED} more`, ops: [] });
  return { name, holds: anomalies.length === 0, description, anomalies: listed };
}

/** Every size the service reported and every stored value stay within the cap. */
export function checkBytesWithinCap(history: readonly HistoryEntry[], store: readonly StoreSnapshot[], capBytes: number): InvariantResult {
  const anomalies: Anomaly[] = [];
  const worst = new Map<string, HistoryEntry>();
  for (const e of history) {
    if (e.bytes === undefined || e.bytes <= capBytes) continue;
    const w = worst.get(e.session);
    if (!w || (w.bytes ?? 0) < e.bytes) worst.set(e.session, e);
  }
  for (const e of worst.values()) anomalies.push({ type: 'state-over-cap', session: e.session, message: `session ${e.session} reported ${e.bytes} bytes of state; the cap is ${capBytes}`, ops: [e.id] });
  for (const s of store) {
    if (s.bytes > capBytes) anomalies.push({ type: 'stored-over-cap', session: s.session, message: `the store holds ${s.bytes} bytes for ${s.tenant}/${s.session}; the cap is ${capBytes}`, ops: [] });
  }
  return result('bytes-within-cap', `Stored state per session never exceeds the cap (${capBytes} bytes), as reported by the service and as held in the store.`, anomalies);
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
  const lastWrite = new Map<string, number>();
  for (const e of history) if (e.op === 'append' && e.session.startsWith(idlePrefix) && e.outcome !== 'fail') lastWrite.set(e.session, Math.max(lastWrite.get(e.session) ?? 0, e.endMs));
  if (noTtl) {
    const alive = new Map<string, HistoryEntry>();
    for (const e of history) {
      if (e.op !== 'read' || !e.session.startsWith(idlePrefix) || e.outcome !== 'ok' || e.mode === 'degraded' || e.status !== 200) continue;
      const w = lastWrite.get(e.session);
      if (w !== undefined && e.startMs > w) alive.set(e.session, e);
    }
    const anomalies: Anomaly[] = [];
    if (alive.size > 0) {
      const held = [...alive.values()];
      const idleS = Math.min(...held.map((e) => (e.startMs - lastWrite.get(e.session)!) / 1000));
      const bytes = held.reduce((n, e) => n + (e.bytes ?? 0), 0);
      anomalies.push({
        type: 'idle-never-expire',
        message: `idle sessions never expire: ${alive.size} of ${lastWrite.size} idle sessions still held after ${idleS.toFixed(1)} s${bytes ? `, ${bytes.toLocaleString('en-US')} bytes` : ''} (${noTtl === 'none' ? 'the backend declares no TTL' : 'no TTL declared'})`,
        ops: held.map((e) => e.id),
      });
    }
    return result('idle-expired', `Sessions left idle are gone after their TTL (${noTtl === 'none' ? 'the backend declares none' : 'none declared'}).`, anomalies);
  }
  const anomalies: Anomaly[] = [];
  let checked = 0;
  for (const e of history) {
    if (e.op !== 'read' || !e.session.startsWith(idlePrefix) || e.outcome !== 'ok' || e.mode === 'degraded') continue;
    const written = lastWrite.get(e.session);
    if (written === undefined || e.startMs < written + ttlSeconds * 1000 + 1000) continue;
    checked++;
    if (e.status !== 404) anomalies.push({ type: 'idle-session-alive', session: e.session, message: `session ${e.session} was idle ${((e.startMs - written) / 1000).toFixed(1)} s (TTL ${ttlSeconds} s) and still answered ${e.status}`, ops: [e.id] });
  }
  if (checked === 0 && lastWrite.size > 0) anomalies.push({ type: 'not-observed', message: `no read of an idle session came after its TTL (${ttlSeconds} s): expiry was not observed`, ops: [] });
  return result('idle-expired', `Sessions idle longer than their TTL (${ttlSeconds} s) are gone.`, anomalies);
}

/** How the long-session scenario marks a turn it sends over the size limit. */
export const OVERSIZED_SUFFIX = '-oversized';

/** Appends marked oversized (turnId ending "-oversized") are refused with 413 and never appear. */
export function checkOversizedRejected(history: readonly HistoryEntry[]): InvariantResult {
  const anomalies: Anomaly[] = [];
  const oversized = history.filter((e) => e.op === 'append' && e.turnId?.endsWith(OVERSIZED_SUFFIX));
  const ids = new Set(oversized.map((e) => e.turnId));
  for (const e of oversized) {
    if (e.status !== CONTRACT_PROBLEMS.state_too_large) anomalies.push({ type: 'oversized-accepted', session: e.session, message: `an oversized turn got ${e.status}${e.code ? ` (${e.code})` : ''}, not 413 state_too_large`, ops: [e.id] });
  }
  for (const e of history) {
    const seen = e.turnIds?.find((t) => ids.has(t));
    if (seen) anomalies.push({ type: 'oversized-stored', session: e.session, message: `a read shows the oversized turn ${seen}`, ops: [e.id] });
  }
  if (oversized.length === 0) anomalies.push({ type: 'not-observed', message: 'the run sent no oversized turn', ops: [] });
  return result('oversized-rejected', 'A turn over the size limit gets 413 state_too_large and changes nothing.', anomalies);
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
export function checkLatencyFlat(
  history: readonly HistoryEntry[],
  opts: { ratio?: number; slackMs?: number; firstN?: number; baselineSuffix?: string } = {},
): { result: InvariantResult; firstP99Ms: number; lastP99Ms: number } {
  const ratio = opts.ratio ?? 1.25;
  const slackMs = opts.slackMs ?? 2;
  const n = opts.firstN ?? 100;
  const suffix = opts.baselineSuffix;
  const bySession = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    if (e.op !== 'append' || e.outcome !== 'ok' || e.turnId?.endsWith('-oversized') || e.turnId?.endsWith('-final')) continue;
    const list = bySession.get(e.session);
    if (list) list.push(e);
    else bySession.set(e.session, [e]);
  }
  for (const ops of bySession.values()) ops.sort((a, b) => a.startMs - b.startMs);
  const first: number[] = [];
  const last: HistoryEntry[] = [];
  for (const [session, ops] of bySession) {
    if (suffix !== undefined && session.endsWith(suffix)) continue;
    const baseline = suffix !== undefined ? bySession.get(session + suffix) : ops;
    if (!baseline || baseline.length < n || ops.length < 2 * n) continue;
    first.push(...baseline.slice(0, n).map(serviceMs));
    last.push(...ops.slice(-n));
  }
  const pct = (v: number[], p: number) => percentile([...v].sort((a, b) => a - b), p * 100);
  const lastMs = last.map(serviceMs);
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
      ops: [...last].sort((a, b) => serviceMs(b) - serviceMs(a)).slice(0, 5).map((e) => e.id),
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
}
