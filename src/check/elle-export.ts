/**
 * Export to the history format Jepsen's Elle list-append checker reads (one EDN map per line, as
 * in elle's histories/*.edn and jepsen's history.edn):
 *
 *   {:index 0, :time 0, :type :invoke, :process 0, :f :txn, :value [[:append "tenant-a/s1" "t1"]]}
 *   {:index 1, :time 2100000, :type :ok, :process 0, :f :txn, :value [[:append "tenant-a/s1" "t1"]]}
 *   {:index 2, :time 3000000, :type :invoke, :process 1, :f :txn, :value [[:r "tenant-a/s1" nil]]}
 *   {:index 3, :time 4000000, :type :ok, :process 1, :f :txn, :value [[:r "tenant-a/s1" ["t1"]]]}
 *
 * Mapping: a session (epoch) is a key, a turn id is a value. Outcomes: ok → :ok, fail → :fail,
 * unknown → :info (and the process is never used again, as Jepsen requires). Retries of one turn id
 * are one append to Elle (values must be unique per key): it is invoked at the first attempt that
 * may have applied and completes at the first acknowledgement (else :info, else :fail).
 *
 * Elle expects reads to return the whole list, ours return the tail window. A window whose earlier
 * positions some other read showed (and no read contradicted) is completed from them; a read whose
 * prefix cannot be completed is left out (counted in `readsOmitted`). After a delete the list
 * restarts, so each epoch is its own key (`s1#1`). Only normal-mode reads of the chosen
 * consistencies are exported: degraded and eventual reads may legitimately be stale.
 */
import type { Consistency, HistoryEntry } from '../record/history.ts';
import { resolveOptions, type CheckInputs } from './options.ts';
import { indexSessions, normalizeHistory, observationOf, sessionKey } from './sessions.ts';

export interface ElleExportOptions extends Pick<CheckInputs, 'windowTurns' | 'readMode' | 'sessionTtlMs' | 'seeded'> {
  /** Read consistencies to export. Default ['strong']. */
  readModes?: Consistency[];
}

export interface ElleExport {
  edn: string;
  stats: { operations: number; appends: number; reads: number; readsOmitted: number; keys: number };
}

interface Op {
  startMs: number;
  endMs: number;
  vu: number;
  type: 'ok' | 'fail' | 'info';
  invoke: string;
  complete: string;
}

export function exportElle(history: readonly HistoryEntry[], options: ElleExportOptions = {}): ElleExport {
  const opts = resolveOptions(options);
  const readModes = new Set(options.readModes ?? ['strong']);
  const ops: Op[] = [];
  let readsOmitted = 0;
  let keys = 0;
  // Seeded turns are appends that completed before the run began, on a process of their own.
  const seeded = new Map<string, string[]>();
  for (const sd of options.seeded ?? []) seeded.set(sessionKey(sd), [...(seeded.get(sessionKey(sd)) ?? []), ...sd.turnIds]);
  let seedMs = Infinity;
  for (const e of history) seedMs = Math.min(seedMs, e.startMs - 1);
  for (const s of indexSessions(normalizeHistory(history), opts)) {
    s.epochs.forEach((epoch, n) => {
      keys++;
      const key = edn(n === 0 ? s.key : `${s.key}#${n}`);
      const attempts = new Map<string, HistoryEntry[]>();
      const positions = new Map<number, string | null>();
      for (const e of epoch) {
        if (e.op === 'append' && e.turnId !== undefined) {
          const a = attempts.get(e.turnId);
          if (a) a.push(e);
          else attempts.set(e.turnId, [e]);
        }
        const o = observationOf(e, opts);
        if (!o) continue;
        const first = o.count - o.ids.length;
        o.ids.forEach((id, i) => {
          const had = positions.get(first + i);
          if (had === undefined) positions.set(first + i, id);
          else if (had !== id) positions.set(first + i, null);
        });
      }
      for (const turnId of n === 0 ? (seeded.get(s.key) ?? []) : []) {
        if (attempts.has(turnId)) continue;
        const mop = `[[:append ${key} ${edn(turnId)}]]`;
        ops.push({ startMs: seedMs, endMs: seedMs, vu: -1, type: 'ok', invoke: mop, complete: mop });
      }
      for (const [turnId, tries] of attempts) {
        const mop = `[[:append ${key} ${edn(turnId)}]]`;
        const maybe = tries.filter((t) => t.outcome !== 'fail');
        const ack = tries.filter((t) => t.outcome === 'ok').sort((a, b) => a.endMs - b.endMs)[0];
        const from = maybe.length > 0 ? maybe : tries;
        const startMs = Math.min(...from.map((t) => t.startMs));
        const type = ack ? 'ok' : maybe.length > 0 ? 'info' : 'fail';
        const endMs = ack ? ack.endMs : Math.max(...from.map((t) => t.endMs));
        ops.push({ startMs, endMs, vu: (ack ?? from[0]!).vu, type, invoke: mop, complete: mop });
      }
      for (const e of epoch) {
        const o = observationOf(e, opts);
        if (!o || o.degraded || !readModes.has(o.consistency)) continue;
        const first = o.count - o.ids.length;
        const list: string[] = [];
        for (let p = 0; p < first; p++) {
          const id = positions.get(p);
          if (!id) break;
          list.push(id);
        }
        if (first < 0 || list.length < first) {
          readsOmitted++;
          continue;
        }
        list.push(...o.ids);
        ops.push({
          startMs: e.startMs,
          endMs: e.endMs,
          vu: e.vu,
          type: 'ok',
          invoke: `[[:r ${key} nil]]`,
          complete: `[[:r ${key} [${list.map(edn).join(' ')}]]]`,
        });
      }
    });
  }
  return { edn: render(ops), stats: { operations: ops.length, appends: ops.filter((o) => o.invoke.startsWith('[[:append')).length, reads: ops.filter((o) => o.invoke.startsWith('[[:r')).length, readsOmitted, keys } };
}

function render(ops: Op[]): string {
  // Processes: a VU keeps its process while its ops do not overlap; an overlapping op, or any op
  // after an :info (whose process stays open forever), gets a fresh one.
  ops.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  let nextProcess = 0;
  const current = new Map<number, { process: number; freeAtMs: number }>();
  const events: Array<{ t: number; rank: number; seq: number; sub: number; text: (index: number, t0: number) => string }> = [];
  ops.forEach((op, seq) => {
    let p = current.get(op.vu);
    if (!p || p.freeAtMs > op.startMs) current.set(op.vu, (p = { process: nextProcess++, freeAtMs: -Infinity }));
    p.freeAtMs = op.type === 'info' ? Infinity : op.endMs;
    const process = p.process;
    const line = (type: string, value: string) => (index: number, t0: number) =>
      `{:index ${index}, :time ${Math.round((0 + (type === 'invoke' ? op.startMs : op.endMs) - t0) * 1e6)}, :type :${type}, :process ${process}, :f :txn, :value ${value}}`;
    events.push({ t: op.startMs, rank: 1, seq, sub: 0, text: line('invoke', op.invoke) });
    // At equal times completions go first, except a zero-length op's, which directly follows its invoke.
    events.push({ t: op.endMs, rank: op.endMs > op.startMs ? 0 : 1, seq, sub: 1, text: line(op.type, op.complete) });
  });
  events.sort((a, b) => a.t - b.t || a.rank - b.rank || a.seq - b.seq || a.sub - b.sub);
  const t0 = events[0]?.t ?? 0;
  return events.map((e, i) => e.text(i, t0)).join('\n') + (events.length > 0 ? '\n' : '');
}

/** An EDN string literal. */
function edn(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
