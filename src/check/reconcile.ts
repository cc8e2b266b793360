/**
 * Three witnesses of one run: the client's history, the service's audit trail, the store.
 * Where two disagree, that is a finding in itself.
 *
 *   client ack ──must be──▶ audit `applied` (once) ──must be──▶ counted by the store (and in its window)
 *   client saw it fail ──must not be──▶ audit `applied` / stored
 *
 * Audit records and snapshots name a tenant; when the history names none, sessions are matched
 * by session id alone. The store snapshot must list every session key of the run's tenants: a
 * session the client wrote to that is missing from it is reported as gone.
 */
import { AUDIT_MSG } from '../contract/audit.ts';
import type { HistoryEntry } from '../record/history.ts';
import { possiblyApplied } from './sessions.ts';
import type { Anomaly, AuditRecord, StoreSnapshot } from './types.ts';

interface Keyer {
  ofEntry(e: HistoryEntry): string;
  of(tenant: string, session: string): string;
}

function keyer(history: readonly HistoryEntry[], tenanted?: boolean): Keyer {
  const tenants = tenanted ?? history.some((e) => e.tenant !== undefined);
  // Memoized: a joined string per entry, hashed afresh each time, is most of a million-entry pass.
  const keys = new Map<string, Map<string, string>>();
  const of = (tenant: string, session: string): string => {
    if (!tenants) return session;
    let m = keys.get(tenant);
    if (!m) keys.set(tenant, (m = new Map()));
    let k = m.get(session);
    if (k === undefined) m.set(session, (k = `${tenant}/${session}`));
    return k;
  };
  return { ofEntry: (e) => of(e.tenant ?? '', e.session), of };
}

interface TurnGroup<T> {
  session: string;
  turnId: string;
  items: T[];
}

/** Items grouped by (session, turn id), in order of first appearance, without a joined key per item. */
class TurnIndex<T> {
  readonly groups: TurnGroup<T>[] = [];
  private readonly index = new Map<string, Map<string, TurnGroup<T>>>();

  add(session: string, turnId: string, item: T): void {
    let m = this.index.get(session);
    if (!m) this.index.set(session, (m = new Map()));
    const g = m.get(turnId);
    if (g) g.items.push(item);
    else {
      const created = { session, turnId, items: [item] };
      m.set(turnId, created);
      this.groups.push(created);
    }
  }

  get(session: string, turnId: string): T[] | undefined {
    return this.index.get(session)?.get(turnId)?.items;
  }
}

/** History entries with this phase were written straight into the store before the run, not through the service. */
export const SEED_PHASE = 'seed';

/** Parses an audit log (pino JSON lines); lines that are not audit records are skipped. */
export function parseAuditLog(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseAuditLine(line);
    if (r) out.push(r);
  }
  return out;
}

/**
 * One line of an audit log as an audit record with only the record's fields (pino's level, pid
 * and hostname are dropped: a stress run's trail is hundreds of thousands of records, held until
 * the check), or undefined for a line that is not one. `intern` shares the repeated strings.
 */
export function parseAuditLine(line: string, intern: (s: string) => string = (s) => s): AuditRecord | undefined {
  if (!line.trim().startsWith('{')) return undefined;
  let r: Partial<AuditRecord>;
  try {
    r = JSON.parse(line) as Partial<AuditRecord>;
  } catch {
    // a torn last line (process killed mid-write) is not a record
    return undefined;
  }
  if (r.msg !== AUDIT_MSG || typeof r.session !== 'string' || typeof r.op !== 'string') return undefined;
  const str = (x: string | undefined) => (typeof x === 'string' ? intern(x) : x);
  return {
    time: r.time!,
    msg: AUDIT_MSG,
    instance: str(r.instance)!,
    tenant: str(r.tenant)!,
    session: intern(r.session),
    op: intern(r.op) as AuditRecord['op'],
    result: str(r.result) as AuditRecord['result'],
    status: r.status!,
    turnId: r.turnId,
    revision: r.revision,
    turnCount: r.turnCount,
    schemaVersion: r.schemaVersion,
  };
}

/** What degraded-unflagged compares, summed over the whole run (see degradedUnflagged). */
export interface DegradedTally {
  auditDegraded: number;
  clientDegraded: number;
  noAnswer: number;
}

/**
 * The audit trail against the client's history, turn by turn. The one run-wide comparison (every
 * degraded answer the service logged reached the client flagged) is left to degradedUnflagged
 * over the tally, so histories checked in parts sum their tallies and compare once.
 */
export function reconcileAuditTurns(history: readonly HistoryEntry[], audit: readonly AuditRecord[], tenanted?: boolean): { anomalies: Anomaly[]; tally: DegradedTally } {
  const k = keyer(history, tenanted);
  const anomalies: Anomaly[] = [];
  const applied = new TurnIndex<AuditRecord>();
  // Appends the service itself could not settle (its store call timed out or failed): the write
  // may have landed anyway, and a client's retry then finds it (applied:false).
  const unsettled = new TurnIndex<AuditRecord>();
  let auditDegraded = 0;
  for (const r of audit) {
    if (r.result === 'degraded') auditDegraded++;
    if (r.op === 'append' && r.turnId !== undefined && (r.result === 'unavailable' || r.result === 'error')) unsettled.add(k.of(r.tenant, r.session), r.turnId, r);
    if (r.op !== 'append' || r.result !== 'applied' || r.turnId === undefined) continue;
    applied.add(k.of(r.tenant, r.session), r.turnId, r);
  }
  const attempts = new TurnIndex<HistoryEntry>();
  for (const e of history) {
    if (e.op !== 'append' || e.turnId === undefined) continue;
    attempts.add(k.ofEntry(e), e.turnId, e);
  }
  for (const { session, turnId, items: tries } of attempts.groups) {
    const rec = applied.get(session, turnId) ?? [];
    // Seeded turns were written straight into the store: the service never saw them.
    const ack = tries.find((t) => t.outcome === 'ok' && t.phase !== SEED_PHASE);
    const settledByRetry = ack?.applied === false && unsettled.get(session, turnId) !== undefined;
    if (ack && rec.length === 0 && !settledByRetry) {
      anomalies.push({ type: 'ack-not-in-audit', session, message: `turn ${turnId} was acknowledged (op ${ack.id}) but the audit trail never applied it`, ops: [ack.id] });
    }
    if (rec.length > 0 && !tries.some(possiblyApplied)) {
      anomalies.push({
        type: 'audit-applied-client-failed',
        session,
        message: `the audit trail applied turn ${turnId} (${rec[0]!.instance}) but every client append of it failed`,
        ops: tries.map((t) => t.id),
      });
    }
  }
  for (const { session, turnId, items: rec } of applied.groups) {
    if (rec.length < 2) continue;
    anomalies.push({
      type: 'audit-applied-twice',
      session,
      message: `the audit trail applied turn ${turnId} ${rec.length} times (instances ${rec.map((r) => r.instance).join(', ')})`,
      ops: (attempts.get(session, turnId) ?? []).map((t) => t.id),
    });
  }
  let clientDegraded = 0;
  let noAnswer = 0;
  for (const e of history) {
    if (e.mode === 'degraded') clientDegraded++;
    if (e.status === 0) noAnswer++;
  }
  return { anomalies, tally: { auditDegraded, clientDegraded, noAnswer } };
}

/** Every degraded answer the service logged must have reached the client flagged, except answers the client never got (no response). */
export function degradedUnflagged({ auditDegraded, clientDegraded, noAnswer }: DegradedTally): Anomaly[] {
  if (auditDegraded <= clientDegraded + noAnswer) return [];
  return [
    {
      type: 'degraded-unflagged',
      message: `the audit trail logged ${auditDegraded} degraded answers but the client saw only ${clientDegraded} flagged degraded (and ${noAnswer} requests got no answer)`,
      ops: [],
    },
  ];
}

export function reconcileAudit(history: readonly HistoryEntry[], audit: readonly AuditRecord[]): Anomaly[] {
  const { anomalies, tally } = reconcileAuditTurns(history, audit);
  return [...anomalies, ...degradedUnflagged(tally)];
}

export interface StoreReconcileOptions {
  audit?: readonly AuditRecord[];
  windowTurns: number;
  maxStateBytes?: number;
  /** Whether the run's history names tenants (default: whether any of `history` does). */
  tenanted?: boolean;
}

interface Expected {
  turnId: string;
  /** Position when known (from an applied: true answer or an audit `applied` record). */
  pos?: number;
  ops: number[];
  source: string;
}

export function reconcileStore(history: readonly HistoryEntry[], store: readonly StoreSnapshot[], opts: StoreReconcileOptions): Anomaly[] {
  const k = keyer(history, opts.tenanted);
  const anomalies: Anomaly[] = [];
  const snaps = new Map(store.map((s) => [k.of(s.tenant, s.session), s]));
  const expected = new Map<string, Map<string, Expected>>();
  const failedOnly = new Map<string, Set<string>>();
  const expect = (session: string, x: Expected): void => {
    let m = expected.get(session);
    if (!m) expected.set(session, (m = new Map()));
    const had = m.get(x.turnId);
    if (!had) m.set(x.turnId, x);
    else if (had.pos === undefined && x.pos !== undefined) had.pos = x.pos;
  };

  // Only what happened after the session's last delete is expected to be stored.
  const lastDeleteMs = new Map<string, number>();
  for (const e of history) if (e.op === 'delete' && e.outcome !== 'fail') lastDeleteMs.set(k.ofEntry(e), Math.max(lastDeleteMs.get(k.ofEntry(e)) ?? -Infinity, e.endMs));
  const byTurn = new TurnIndex<HistoryEntry>();
  for (const e of history) {
    if (e.op !== 'append' || e.turnId === undefined) continue;
    byTurn.add(k.ofEntry(e), e.turnId, e);
  }
  for (const { session, turnId, items: tries } of byTurn.groups) {
    if (!tries.some(possiblyApplied)) {
      let f = failedOnly.get(session);
      if (!f) failedOnly.set(session, (f = new Set()));
      f.add(turnId);
      continue;
    }
    const ack = tries.find((t) => t.outcome === 'ok' && t.startMs > (lastDeleteMs.get(session) ?? -Infinity));
    if (!ack) continue;
    const appliedAck = tries.find((t) => t.outcome === 'ok' && t.applied === true && t.turnCount !== undefined);
    expect(session, { turnId, pos: appliedAck ? appliedAck.turnCount! - 1 : undefined, ops: [ack.id], source: `acknowledged by op ${ack.id}` });
  }
  if (opts.audit) {
    const auditDeleteMs = new Map<string, number>();
    for (const r of opts.audit) if (r.op === 'delete' && r.result === 'ok') auditDeleteMs.set(k.of(r.tenant, r.session), Math.max(auditDeleteMs.get(k.of(r.tenant, r.session)) ?? -Infinity, r.time));
    for (const r of opts.audit) {
      if (r.op !== 'append' || r.result !== 'applied' || r.turnId === undefined) continue;
      const session = k.of(r.tenant, r.session);
      if (r.time <= (auditDeleteMs.get(session) ?? -Infinity)) continue;
      expect(session, { turnId: r.turnId, pos: r.turnCount !== undefined ? r.turnCount - 1 : undefined, ops: [], source: `applied in the audit trail (${r.instance})` });
    }
  }

  for (const [session, turns] of expected) {
    const snap = snaps.get(session);
    if (!snap) {
      const first = turns.values().next().value!;
      anomalies.push({ type: 'store-session-missing', session, message: `the store has no key for the session, though turn ${first.turnId} was ${first.source}`, ops: first.ops });
      continue;
    }
    const s = snap;
    const ids = new Set(s.turnIds);
    const windowStart = s.turnCount - Math.max(s.turnIds.length, Math.min(opts.windowTurns, s.turnCount));
    let reported = 0;
    for (const x of turns.values()) {
      if (ids.has(x.turnId) || x.pos === undefined || x.pos < windowStart || reported >= 5) continue;
      reported++;
      anomalies.push({
        type: x.pos >= s.turnCount ? 'store-not-counted' : 'store-window-missing',
        session,
        message: `turn ${x.turnId} (${x.source}, position ${x.pos}) is ${x.pos >= s.turnCount ? `not counted by the store's turnCount ${s.turnCount}` : `missing from the store's window [${windowStart}, ${s.turnCount})`}`,
        ops: x.ops,
      });
    }
  }
  for (const [session, s] of snaps) {
    // Named by key, not by its place in the snapshot: the place changes when the snapshot is split.
    const where = `the store's key for ${s.tenant}/${s.session}`;
    if (s.ttlSeconds === -1) anomalies.push({ type: 'store-no-ttl', session, message: `${where}: the session key has no TTL`, ops: [] });
    if (opts.maxStateBytes !== undefined && s.bytes > opts.maxStateBytes) {
      anomalies.push({ type: 'store-over-cap', session, message: `${where}: ${s.bytes} bytes stored, cap ${opts.maxStateBytes}`, ops: [] });
    }
    if (new Set(s.turnIds).size !== s.turnIds.length) anomalies.push({ type: 'store-duplicate', session, message: `${where}: the window holds a turn id twice`, ops: [] });
    const failed = failedOnly.get(session);
    for (const id of s.turnIds) {
      if (!failed?.has(id)) continue;
      const ops = (byTurn.get(session, id) ?? []).map((t) => t.id);
      anomalies.push({ type: 'store-phantom', session, message: `${where}: turn ${id} is stored but every client append of it failed`, ops });
    }
  }
  return anomalies;
}
