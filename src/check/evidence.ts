/**
 * No verdict without evidence. Every invariant result is given a status and the evidence it
 * rests on, counted from the history: a checker with nothing to check is "no evidence" (a
 * failure unless waived, never a pass); an invariant whose capability the backend lacks, or
 * whose fault was never injected, is "not applicable" with the reason; a waiver from the backend
 * profile keeps its reason; and a violation stays a violation whatever else is said.
 *
 *   checker results ─▶ waiver? ─▶ violated? ─▶ applicable? ─▶ evidence count > 0 ? held : no evidence
 */
import type { HistoryEntry } from '../record/history.ts';
import type { InvariantResult } from './types.ts';

export interface Capabilities {
  conditionalAppend: boolean;
  readModes: readonly string[];
  summary: boolean;
  pinnedFacts: boolean;
  degradedMode: boolean;
  schemaVersions: readonly number[];
}

export interface EvidenceContext {
  /** The history, or its counts already taken (evidenceCounts, summed over partitions with addEvidenceCounts). */
  history: readonly HistoryEntry[] | EvidenceCounts;
  /** Faults verified as injected in this run. */
  faultsInjected: number;
  /** Declared by the backend profile; undefined for the reference service (it has them all). */
  capabilities?: Capabilities;
  waive?: Readonly<Record<string, string>>;
  /** Tenants the scenario used. */
  tenants: number;
  /** Counts a checker measured itself (e.g. `revision-per-turn: 812 answers`), by invariant name. */
  measured?: Readonly<Record<string, { count: number; text: string }>>;
  /** Invariants whose promise the backend declared (e.g. idle-expired with a declared TTL): a waiver cannot cover their violation. */
  declared?: ReadonlySet<string>;
  /** Witnesses the run had no access to: their invariants are not applicable. */
  unreachable?: Readonly<Record<string, string>>;
}

interface Count {
  count: number;
  text: string;
}

const FAULT_DEPENDENT = new Set(['fault-p99-within-budget', 'recovers-within-5s', 'failover-loss-window', 'no-divergence-after-failover']);

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

export type EvidenceCounts = ReturnType<typeof evidenceCounts>;

/** What the evidence of every invariant is counted from: sums, so histories split by session add up. */
export function evidenceCounts(history: readonly HistoryEntry[]) {
  const sessions = new Set<string>();
  let acked = 0;
  let answers = 0;
  let reads = 0;
  let readsWithTurns = 0;
  let ifMatch = 0;
  let versioned = 0;
  let sized = 0;
  let oversized = 0;
  let pinned = 0;
  let idleReads = 0;
  const byMode: Record<string, number> = {};
  for (const e of history) {
    sessions.add(e.tenant ? `${e.tenant}/${e.session}` : e.session);
    if (e.status > 0) answers++;
    if (e.schemaVersion !== undefined) versioned++;
    if (e.op === 'append') {
      if (e.outcome === 'ok') acked++;
      if (e.turnId?.endsWith('-oversized') && e.status > 0) oversized++;
      if (e.turnId?.endsWith('-pinned') && e.outcome === 'ok') pinned++;
      if (e.ifMatch !== undefined && e.status > 0) ifMatch++;
    } else if (e.op === 'read' && e.outcome === 'ok') {
      reads++;
      if (e.bytes !== undefined) sized++;
      if (e.session.startsWith('idle-')) idleReads++;
      if (e.turnIds && e.turnIds.length > 0) readsWithTurns++;
      const m = e.consistency ?? 'strong';
      byMode[m] = (byMode[m] ?? 0) + 1;
    }
  }
  return { sessions: sessions.size, acked, answers, reads, readsWithTurns, ifMatch, versioned, byMode, sized, oversized, pinned, idleReads };
}

/** The counts of two histories with no session in common. */
export function addEvidenceCounts(a: EvidenceCounts, b: EvidenceCounts): EvidenceCounts {
  const byMode: Record<string, number> = { ...a.byMode };
  for (const [m, n] of Object.entries(b.byMode)) byMode[m] = (byMode[m] ?? 0) + n;
  return {
    sessions: a.sessions + b.sessions,
    acked: a.acked + b.acked,
    answers: a.answers + b.answers,
    reads: a.reads + b.reads,
    readsWithTurns: a.readsWithTurns + b.readsWithTurns,
    ifMatch: a.ifMatch + b.ifMatch,
    versioned: a.versioned + b.versioned,
    byMode,
    sized: a.sized + b.sized,
    oversized: a.oversized + b.oversized,
    pinned: a.pinned + b.pinned,
    idleReads: a.idleReads + b.idleReads,
  };
}

function evidenceFor(name: string, c: EvidenceCounts, ctx: EvidenceContext): Count {
  const m = ctx.measured?.[name];
  if (m) return m;
  const inSessions = ` in ${fmt(c.sessions)} sessions`;
  switch (name) {
    case 'no-lost-writes':
    case 'no-duplicates':
    case 'audit-agrees':
    case 'store-agrees':
      return { count: c.acked, text: `${fmt(c.acked)} acknowledged writes${inSessions}` };
    case 'no-phantom-writes':
    case 'no-divergence':
      return { count: c.readsWithTurns, text: `${fmt(c.readsWithTurns)} reads that showed turns${inSessions}` };
    case 'read-your-writes':
    case 'monotonic-reads':
    case 'monotonic-writes':
    case 'writes-follow-reads':
    case 'no-stale-strong-reads':
      return { count: c.byMode.strong ?? 0, text: `${fmt(c.byMode.strong ?? 0)} strong reads` };
    case 'bounded-staleness':
      return { count: c.byMode.bounded ?? 0, text: `${fmt(c.byMode.bounded ?? 0)} bounded reads` };
    case 'cas-respected':
      return { count: c.ifMatch, text: `${fmt(c.ifMatch)} conditional appends (If-Match)` };
    case 'no-schema-regression':
    case 'final-schema-version':
      return { count: c.versioned, text: `${fmt(c.versioned)} answers carrying schemaVersion` };
    case 'bytes-within-cap':
      return { count: c.sized, text: `${fmt(c.sized)} reads reporting state bytes` };
    case 'oversized-rejected':
      return { count: c.oversized, text: `${fmt(c.oversized)} oversized turns answered` };
    case 'pinned-facts-kept':
      return { count: c.pinned, text: `${fmt(c.pinned)} pinned turns acknowledged` };
    case 'idle-expired':
      return { count: c.idleReads, text: `${fmt(c.idleReads)} reads of idle sessions` };
    case 'latency-flat':
      return { count: c.acked, text: `${fmt(c.acked)} acknowledged appends` };
    default:
      return { count: c.answers, text: `${fmt(c.answers)} answers` };
  }
}

/** Why an invariant does not apply to this backend or run, or undefined when it does. */
function notApplicable(name: string, ctx: EvidenceContext): string | undefined {
  if (FAULT_DEPENDENT.has(name) && ctx.faultsInjected === 0) return 'no fault injected';
  const unreachable = ctx.unreachable?.[name];
  if (unreachable) return unreachable;
  const caps = ctx.capabilities;
  if (name === 'tenant-isolation' && ctx.tenants < 2) return 'one tenant: give two tokens (tenants in the backend profile) to check isolation';
  if (!caps) return undefined;
  if (name === 'cas-respected' && !caps.conditionalAppend) return 'the backend declares no conditional append (capabilities.conditionalAppend)';
  if (name === 'bounded-staleness' && !caps.readModes.includes('bounded')) return 'the backend declares no bounded read mode (capabilities.readModes)';
  if (name === 'pinned-facts-kept' && !caps.pinnedFacts) return 'the backend declares no pinned facts (capabilities.pinnedFacts)';
  if ((name === 'no-schema-regression' || name === 'final-schema-version') && caps.schemaVersions.length === 0) return 'the backend declares no schema versions (capabilities.schemaVersions)';
  return undefined;
}

export function judgeEvidence(results: readonly InvariantResult[], ctx: EvidenceContext): InvariantResult[] {
  const c = Array.isArray(ctx.history) ? evidenceCounts(ctx.history) : (ctx.history as EvidenceCounts);
  return results.map((r) => {
    const waiver = ctx.waive?.[r.name];
    const ev = evidenceFor(r.name, c, ctx);
    const base = { ...r, evidence: ev.text };
    const cannot = ctx.unreachable?.[r.name];
    if (cannot) return { ...base, holds: true, status: 'not-applicable' as const, reason: cannot, anomalies: [] };
    if (r.anomalies.some((a) => a.type === 'missing-input')) {
      const why = notApplicable(r.name, ctx);
      if (why) return { ...base, holds: true, status: 'not-applicable' as const, reason: why, anomalies: [] };
    }
    // What does not apply to this backend or run is said so before any verdict on it.
    const why0 = notApplicable(r.name, ctx);
    if (why0) return { ...base, holds: true, status: 'not-applicable' as const, reason: why0, anomalies: [] };
    if (!r.holds) {
      if (waiver && ctx.declared?.has(r.name)) return { ...base, status: 'violated' as const, reason: `a declared promise broke; the waiver (${waiver}) does not cover it` };
      if (waiver) return { ...base, holds: true, status: 'waived' as const, reason: waiver };
      return { ...base, status: 'violated' as const };
    }
    const why = notApplicable(r.name, ctx);
    if (why) return { ...base, holds: true, status: 'not-applicable' as const, reason: why };
    if (ev.count === 0) {
      if (waiver) return { ...base, holds: true, status: 'waived' as const, reason: waiver };
      return { ...base, holds: false, status: 'no-evidence' as const, anomalies: [{ type: 'no-evidence', message: `no evidence: ${ev.text}; nothing was there to check`, ops: [] }] };
    }
    if (waiver) return { ...base, status: 'held' as const, reason: `waived (${waiver}), and held anyway` };
    return { ...base, status: 'held' as const };
  });
}
