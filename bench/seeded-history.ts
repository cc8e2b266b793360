/**
 * A seeded history of a correct (linearizable) backend under a cross-instance-like load, made
 * entry by entry as the scenarios record them, for the checker bench.
 *
 * Each operation takes effect at one instant just after it starts, in the order generated, so
 * every read is right and the checkers must find nothing. The mix: appends (some conditional,
 * some refused with 409, some timing out and applied or not at random, some idempotent replays),
 * reads of every consistency returning the tail window, a few deletes (new epochs), several
 * sessions per tenant, VUs that each run one operation at a time (except after a timeout), three
 * instances. Entry objects get their optional fields as the recorder's do (several shapes).
 */
import { seededRandom } from '../src/base/random.ts';
import type { AuditRecord, StoreSnapshot } from '../src/check/types.ts';
import type { Consistency, HistoryEntry } from '../src/record/history.ts';

export interface SeededHistoryOptions {
  entries: number;
  seed?: number;
  tenants?: number;
  /** Operations per session on average (sessions = entries / this). Default 2000. */
  opsPerSession?: number;
  vus?: number;
  windowTurns?: number;
  /** Where the audit records go, when not into the returned array (which is then empty): a spill. */
  addAudit?: (r: AuditRecord) => void;
}

type AuditSink = { push(r: AuditRecord): unknown };

export interface SeededWitnesses {
  store: StoreSnapshot[];
  audit: AuditRecord[];
}

interface Session {
  tenant: string;
  session: string;
  ids: string[];
  revision: number;
  bytes: number;
  /** Pinned turns ever applied: the summary keeps them (across deletes too, as the bench's simplification). */
  pinned: string[];
}

const MODES: Consistency[] = ['strong', 'strong', 'bounded', 'bounded', 'eventual'];

export function seededHistory(o: SeededHistoryOptions, add: (e: HistoryEntry) => void): SeededWitnesses {
  const rand = seededRandom(o.seed ?? 7);
  const windowTurns = o.windowTurns ?? 10;
  const tenants = o.tenants ?? 4;
  const vus = o.vus ?? 64;
  const sessionCount = Math.max(tenants * 2, Math.round(o.entries / (o.opsPerSession ?? 2000)));
  const sessions: Session[] = [];
  for (let i = 0; i < sessionCount; i++) sessions.push({ tenant: `tenant-${i % tenants}`, session: `x-${i}`, ids: [], revision: 0, bytes: 0, pinned: [] });
  const held: AuditRecord[] = [];
  const audit: AuditSink = o.addAudit ? { push: o.addAudit } : held;
  const lastTurnOf = new Map<number, { s: Session; turnId: string }>();
  let t = 1_700_000_000_000;
  for (let n = 0; n < o.entries; n++) {
    const vu = 1 + (n % vus);
    const s = sessions[Math.floor(rand() * sessionCount)]!;
    const instance = `i${1 + (n % 3)}`;
    const startMs = t;
    t += 0.1; // 10,000 operations a second
    const endMs = startMs + 1 + rand() * 4;
    const atMs = startMs + 0.05; // the instant it takes effect: ordered as generated, inside [start, end]
    const r = rand();
    if (r < 0.0005) {
      s.ids = [];
      s.revision = 0;
      s.bytes = 0;
      audit.push({ time: atMs, msg: 'audit', instance, tenant: s.tenant, session: s.session, op: 'delete', result: 'ok', status: 204 });
      add({ id: 0, vu, op: 'delete', session: s.session, tenant: s.tenant, intendedStartMs: startMs, startMs, endMs, outcome: 'ok', status: 204, mode: 'normal', instance });
    } else if (r < 0.55) {
      // An idempotent replay of this VU's last applied turn, while the window still holds it.
      const last = rand() < 0.01 ? lastTurnOf.get(vu) : undefined;
      const replay = last && last.s === s && s.ids.includes(last.turnId) ? last.turnId : undefined;
      const kind = rand();
      const turnId = replay ?? `${s.session}-${vu}-${n}${kind < 0.001 ? '-oversized' : kind < 0.006 ? '-pinned' : ''}`;
      const conditional = rand() < 0.2;
      const ifMatch = conditional ? (rand() < 0.1 ? s.revision - 1 : s.revision) : undefined;
      const e: HistoryEntry = { id: 0, vu, op: 'append', session: s.session, tenant: s.tenant, turnId, intendedStartMs: startMs, startMs, endMs, outcome: 'ok', status: 200 };
      if (ifMatch !== undefined) e.ifMatch = ifMatch;
      const u = rand();
      if (replay !== undefined) {
        Object.assign(e, { revision: s.revision, turnCount: s.revision, applied: false, mode: 'normal', schemaVersion: 3, instance });
        audit.push({ time: atMs, msg: 'audit', instance, tenant: s.tenant, session: s.session, op: 'append', result: 'replayed', turnId, status: 200 });
      } else if (turnId.endsWith('-oversized')) {
        Object.assign(e, { outcome: 'fail', status: 413, code: 'state_too_large', mode: 'normal', instance });
        audit.push({ time: atMs, msg: 'audit', instance, tenant: s.tenant, session: s.session, op: 'append', result: 'too_large', turnId, status: 413 });
      } else if (ifMatch !== undefined && ifMatch !== s.revision) {
        Object.assign(e, { outcome: 'fail', status: 409, code: 'revision_conflict', mode: 'normal', instance });
        audit.push({ time: atMs, msg: 'audit', instance, tenant: s.tenant, session: s.session, op: 'append', result: 'conflict', turnId, status: 409 });
      } else if (u < 0.015) {
        // A timeout: applied or not, the client cannot tell.
        e.endMs = startMs + 5_000;
        Object.assign(e, { outcome: 'unknown', status: 0, code: 'transport:timeout' });
        if (rand() < 0.5) applyTurn(s, turnId, audit, atMs, instance);
      } else {
        applyTurn(s, turnId, audit, atMs, instance);
        Object.assign(e, { revision: s.revision, turnCount: s.revision, applied: true, mode: 'normal', schemaVersion: 3, instance });
        lastTurnOf.set(vu, { s, turnId });
      }
      add(e);
    } else {
      const consistency = MODES[Math.floor(rand() * MODES.length)]!;
      const e: HistoryEntry = { id: 0, vu, op: 'read', session: s.session, tenant: s.tenant, consistency, intendedStartMs: startMs, startMs, endMs, outcome: 'ok', status: 200 };
      if (s.revision === 0) Object.assign(e, { status: 404, code: 'not_found', mode: 'normal', instance });
      else Object.assign(e, { revision: s.revision, turnCount: s.revision, turnIds: fresh(s.ids.slice(-windowTurns)), mode: 'normal', schemaVersion: 3, instance, bytes: s.bytes });
      if (s.revision > 0 && rand() < 0.01) e.summary = `remember: ${s.pinned.join(', ')}`;
      add(e);
    }
  }
  const store: StoreSnapshot[] = sessions
    .filter((s) => s.revision > 0)
    .map((s) => ({ tenant: s.tenant, session: s.session, schemaVersion: 3, revision: s.revision, turnCount: s.revision, turnIds: s.ids.slice(-windowTurns), bytes: s.bytes, ttlSeconds: 3600 }));
  return { store, audit: held };
}

/** Strings of their own, as JSON.parse gives each answer: a read shares no memory with the append that wrote the turn. */
function fresh(ids: string[]): string[] {
  return ids.map((id) => (' ' + id).slice(1));
}

function applyTurn(s: Session, turnId: string, audit: AuditSink, atMs: number, instance: string): void {
  s.ids.push(turnId);
  if (turnId.endsWith('-pinned')) s.pinned.push(turnId);
  // The store keeps the window; the rest is compacted away.
  if (s.ids.length > 64) s.ids = s.ids.slice(-16);
  s.revision++;
  s.bytes = Math.min(50_000, 400 + 300 * Math.min(s.revision, 10));
  audit.push({ time: atMs, msg: 'audit', instance, tenant: s.tenant, session: s.session, op: 'append', result: 'applied', turnId, revision: s.revision, turnCount: s.revision, status: 200 });
}
