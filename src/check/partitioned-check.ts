/**
 * checkPartitioned: checkHistory over a history held in partitions of whole sessions, one
 * partition in memory at a time, with the same report.
 *
 *   partition 0 … n-1 (every entry of a session id, any tenant, any case, in one) ─▶ session-scoped invariants,
 *        each partition with its own sessions' audit records, store keys and seeded sessions
 *        │ anomalies joined, evidence figures and stats summed, staleness samples merged
 *        ▼
 *   the run-wide invariants that fold (stream) see each partition as it is loaded; the others
 *   (fault windows, /metrics, medians) run over one slim copy of every entry (no window, no
 *   summary), built only when one of them is picked ─▶ one CheckReport
 *
 * Why: checking a whole history indexes it several times over (sessions, epochs, observations);
 * at millions of operations that index is gigabytes and falls out of every cache. A partition's
 * index is small and is dropped before the next one is built. An invariant is session-scoped
 * (`scope: 'session'` in invariants.ts) when its anomalies over a history are exactly the union
 * of its anomalies over that history split by session key; test/check/partitioned-check.test.ts
 * holds each one to that.
 *
 * Anomalies come out ordered by their first proving operation, so the ones listed under the cap
 * are the earliest of the run; checkHistory lists them in its checkers' own order. Which
 * anomalies exist, how many, every figure and every verdict are the same.
 */
import type { HistoryEntry } from '../record/history.ts';
import { checkUncapped, missingInput, pickInvariants, wordReport, type CheckOptions } from './check-history.ts';
import { invariantSpec, unmetNeeds, type Finding, type InvariantName, type MeasuredInvariant } from './invariants.ts';
import { DEFAULTS } from './options.ts';
import { markNormalized, normalizeHistory } from './sessions.ts';
import { stalenessStats } from './staleness.ts';
import type { Anomaly, AuditRecord, CheckReport, CheckStats } from './types.ts';
import type { Consistency } from '../record/history.ts';

export interface HistoryPartitions {
  /** How many partitions there are; partitionOf(key, count) names the one a session key is in. */
  readonly count: number;
  /** Partition i's entries in the recorder's shape (normalizeEntry), ids ascending; read anew on each call. */
  load(i: number): readonly HistoryEntry[];
  /** Whether any entry of any partition names a tenant (how audit records and store keys are matched). */
  readonly tenanted: boolean;
  /** The whole history, when it is in memory anyway: the run-wide invariants read it instead of a slim copy. */
  whole?(): readonly HistoryEntry[];
}

/** An audit trail split as the history is (partitionOf(partitionKey(record))), read one partition at a time. */
export interface AuditPartitions {
  readonly count: number;
  /** Records in all partitions. */
  readonly size: number;
  /** Partition i's records, each session's in the order logged (read anew on each call). */
  load(i: number): AuditRecord[];
}

/**
 * What decides an entry's partition: its session id in lower case, whatever the tenant, so every
 * key an invariant may compare with it (tenant/session, the bare session id, a case variant) is
 * in the same partition.
 */
export function partitionKey(e: { session: string }): string {
  return e.session.toLowerCase();
}

/** The partition of a partition key: FNV-1a, so a key lands in the same one in every process. */
export function partitionOf(key: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** A history already in memory, split by session key (views, not copies, of its entries). */
export function partitionInMemory(history: readonly HistoryEntry[], count: number): HistoryPartitions {
  const parts: HistoryEntry[][] = Array.from({ length: count }, () => []);
  let tenanted = false;
  const all = normalizeHistory(history);
  for (const e of all) {
    parts[partitionOf(partitionKey(e), count)]!.push(e);
    if (e.tenant !== undefined) tenanted = true;
  }
  for (const p of parts) markNormalized(p);
  return { count, tenanted, load: (i) => parts[i]!, whole: () => all };
}

export function checkPartitioned(parts: HistoryPartitions, options: CheckOptions = {}): CheckReport {
  return checkPartitionedWith(parts, options).report;
}

export interface PartitionHooks {
  /** Sees each partition's entries once, as loaded, for what the caller counts from whole entries. */
  onPartition?(entries: readonly HistoryEntry[]): void;
  /** Keep the slim copy of every entry (in id order) for the caller, even when no run-wide invariant needs it. */
  keepSlim?: boolean;
  /**
   * The audit trail in the history's partitions, read beside each one, in place of options.audit
   * (which must then be absent): a trail of millions of records need not be in memory whole.
   */
  auditParts?: AuditPartitions;
}

/** checkPartitioned, and the slim copy of every entry in id order when kept (the whole history when in memory). */
export function checkPartitionedWith(parts: HistoryPartitions, options: CheckOptions = {}, hooks: PartitionHooks = {}): { report: CheckReport; slim?: readonly HistoryEntry[] } {
  const auditParts = hooks.auditParts;
  if (auditParts && options.audit) throw new Error('checkPartitioned: an audit trail given twice (options.audit and auditParts)');
  if (auditParts && auditParts.count !== parts.count) throw new Error(`checkPartitioned: the audit trail has ${auditParts.count} partitions, the history ${parts.count}`);
  // An audit given in partitions is an audit given: the checkers that need one run.
  const inputs = auditParts ? { ...options, audit: [] } : options;
  const names = pickInvariants(inputs);
  const unmet = new Map(names.map((n) => [n, unmetNeeds(n, inputs)] as const).filter(([, u]) => u.length > 0));
  const runnable = names.filter((n) => !unmet.has(n));
  const local = runnable.filter((n) => invariantSpec(n).scope === 'session');
  // Run-wide invariants that fold over the partitions as they are loaded need no slim copy.
  const folds = new Map(runnable.flatMap((n) => (invariantSpec(n).scope !== 'session' && invariantSpec(n).stream ? [[n, invariantSpec(n).stream!(options)] as const] : [])));
  const runWide = runnable.filter((n) => invariantSpec(n).scope !== 'session' && !folds.has(n));

  const slimEntry = slimmer(runWide);
  const audit = splitBy(options.audit, parts.count);
  const store = splitBy(options.store, parts.count);
  const seeded = splitBy(options.seeded, parts.count);
  const found = new Map<InvariantName, Anomaly[]>(local.map((n) => [n, []]));
  const figures = new Map<MeasuredInvariant, number[]>();
  const tallies = new Map<InvariantName, number[]>();
  const samples: Record<Consistency, number[][]> = { strong: [], bounded: [], eventual: [] };
  let stats: CheckStats | undefined;
  const slim: HistoryEntry[][] = [];
  const runWidePass = runWide.length > 0 || options.faultWindows !== undefined;
  const keepSlim = runWidePass || hooks.keepSlim === true;
  for (let i = 0; i < parts.count; i++) {
    const entries = parts.load(i);
    hooks.onPartition?.(entries);
    for (const f of folds.values()) f.add(entries);
    // No fault windows: only run-wide invariants read them, and recovery is measured once, below.
    const given = { ...options, audit: auditParts ? auditParts.load(i) : audit?.[i], store: store?.[i], seeded: seeded?.[i], tenanted: parts.tenanted, faultWindows: undefined };
    const u = checkUncapped(entries, given, local, { conclude: false });
    for (const [name, f] of u.found) found.get(name)!.push(...anomaliesOf(name, f));
    for (const [name, f] of u.figures) figures.set(name, sum(figures.get(name), f));
    for (const [name, f] of u.tallies) tallies.set(name, sum(tallies.get(name), f));
    for (const mode of ['strong', 'bounded', 'eventual'] as const) samples[mode].push(u.staleness!.samples[mode]);
    stats = stats ? addStats(stats, u.stats!) : u.stats!;
    if (keepSlim && !parts.whole) {
      const slimOf = slimEntry(entries);
      slim.push(entries.map(slimOf));
    }
  }

  const findings = new Map<InvariantName, Finding>();
  let recovery: CheckStats['recovery'];
  const history = keepSlim ? (parts.whole?.() ?? markNormalized(inIdOrder(slim))) : undefined;
  if (runWidePass) {
    const u = checkUncapped(history!, options, runWide, { stats: false });
    for (const [name, f] of u.found) findings.set(name, f);
    for (const [name, f] of u.figures) figures.set(name, [...f]);
    recovery = u.recovery;
  }
  for (const [name, f] of found) findings.set(name, [...f.sort(byFirstOp), ...(invariantSpec(name).conclude?.(tallies.get(name) ?? []) ?? [])]);
  for (const [name, f] of folds) findings.set(name, f.finish());
  for (const [name, u] of unmet) findings.set(name, [missingInput(name, u)]);
  const merged: CheckStats = {
    ...(stats ?? emptyStats()),
    staleness: stalenessStats({ strong: mergeSorted(samples.strong), bounded: mergeSorted(samples.bounded), eventual: mergeSorted(samples.eventual) }),
  };
  if (recovery) merged.recovery = recovery;
  // The registry's order, as checkHistory reports it.
  const ordered = new Map(names.map((n) => [n, findings.get(n)!] as const));
  return { report: wordReport(ordered, figures, merged, options.maxAnomaliesPerInvariant ?? DEFAULTS.maxAnomaliesPerInvariant), ...(history ? { slim: history } : {}) };
}

function anomaliesOf(name: InvariantName, f: Finding): Anomaly[] {
  // A session-scoped checker returns anomalies; one that shaped its own result cannot be joined.
  if (!Array.isArray(f)) throw new Error(`checkPartitioned: ${name} is marked session-scoped but shapes its own result`);
  return f;
}

/**
 * Entries without what only session-scoped checkers read (the window's turn ids, the summary),
 * keeping the windows the run-wide ones picked declare they read (InvariantSpec.reads), decided
 * for each partition over its own entries. The run-wide checkers read times, outcomes, statuses,
 * modes and counts.
 */
function slimmer(runWide: readonly InvariantName[]): (partition: readonly HistoryEntry[]) => (e: HistoryEntry) => HistoryEntry {
  const reads = runWide.map((n) => invariantSpec(n).reads).filter((r) => r !== undefined);
  if (reads.includes('windows')) return () => (e) => e;
  const declared = reads.filter((r) => r !== 'windows');
  return (partition) => {
    const whole = declared.map((r) => r.windowsOf(partition));
    return (e) => {
      if (e.turnIds === undefined && e.summary === undefined) return e;
      if (whole.some((w) => w(e))) return e.summary === undefined ? e : { ...e, summary: undefined };
      return { ...e, turnIds: undefined, summary: undefined };
    };
  };
}

/**
 * Partitions' entries (each in ascending id order) as one list in id order. The recorder numbers
 * entries densely, so each goes straight to its place (linear, where a sort of millions of
 * entries is not); ids spread wider than that are sorted.
 */
export function inIdOrder(parts: readonly (readonly HistoryEntry[])[]): HistoryEntry[] {
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of parts) {
    if (p.length === 0) continue;
    n += p.length;
    lo = Math.min(lo, p[0]!.id);
    hi = Math.max(hi, p[p.length - 1]!.id);
  }
  if (n === 0) return [];
  const span = hi - lo + 1;
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || span > 2 * n) return parts.flat().sort((a, b) => a.id - b.id);
  const placed = new Array<HistoryEntry | undefined>(span);
  for (const p of parts) {
    for (const e of p) {
      const at = e.id - lo;
      // A fractional, repeated or out-of-order id has no single place: sort instead.
      if (!Number.isInteger(at) || at < 0 || at >= span || placed[at] !== undefined) return parts.flat().sort((a, b) => a.id - b.id);
      placed[at] = e;
    }
  }
  if (span === n) return placed as HistoryEntry[];
  const out: HistoryEntry[] = [];
  for (const e of placed) if (e !== undefined) out.push(e);
  return out;
}

function splitBy<T extends { session: string }>(xs: readonly T[] | undefined, count: number): T[][] | undefined {
  if (!xs) return undefined;
  const out: T[][] = Array.from({ length: count }, () => []);
  for (const x of xs) out[partitionOf(partitionKey(x), count)]!.push(x);
  return out;
}

function sum(a: readonly number[] | undefined, b: readonly number[]): number[] {
  return b.map((x, i) => x + (a?.[i] ?? 0));
}

function byFirstOp(a: Anomaly, b: Anomaly): number {
  return (a.ops[0] ?? Infinity) - (b.ops[0] ?? Infinity);
}

function mergeSorted(lists: readonly number[][]): number[] {
  const out = lists.flat();
  return out.sort((a, b) => a - b);
}

function addStats(a: CheckStats, b: CheckStats): CheckStats {
  const ops: CheckStats['ops'] = { ...a.ops };
  for (const [op, c] of Object.entries(b.ops)) {
    const had = ops[op] ?? { ok: 0, fail: 0, unknown: 0 };
    ops[op] = { ok: had.ok + c.ok, fail: had.fail + c.fail, unknown: had.unknown + c.unknown };
  }
  const t = a.acknowledgedTurns;
  const u = b.acknowledgedTurns;
  return {
    entries: a.entries + b.entries,
    sessions: a.sessions + b.sessions,
    ops,
    acknowledgedTurns: { total: t.total + u.total, seenInWindow: t.seenInWindow + u.seenInWindow, countedOnly: t.countedOnly + u.countedOnly, unverified: t.unverified + u.unverified, lost: t.lost + u.lost },
    staleness: {},
    degradedResponses: a.degradedResponses + b.degradedResponses,
    revisionConflicts: a.revisionConflicts + b.revisionConflicts,
  };
}

function emptyStats(): CheckStats {
  return { entries: 0, sessions: 0, ops: {}, acknowledgedTurns: { total: 0, seenInWindow: 0, countedOnly: 0, unverified: 0, lost: 0 }, staleness: {}, degradedResponses: 0, revisionConflicts: 0 };
}
