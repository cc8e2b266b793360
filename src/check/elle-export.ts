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
 *
 * Size: every read line carries its session's whole list, so the file grows as reads × list
 * length (a fast backend's long sessions make gigabytes). Lines are therefore rendered one at a
 * time, from each epoch's shared position table, and writeElle streams them to the file under a
 * byte budget; past it the file ends at a line boundary (a time prefix of the history, which Elle
 * reads as one whose later operations never happened) and the result says so.
 */
import { open } from 'node:fs/promises';
import type { Consistency, HistoryEntry } from '../record/history.ts';
import { resolveOptions, type CheckInputs } from './options.ts';
import { indexSessions, normalizeHistory, observationOf, sessionKey } from './sessions.ts';

export interface ElleExportOptions extends Pick<CheckInputs, 'windowTurns' | 'readMode' | 'sessionTtlMs' | 'seeded'> {
  /** Read consistencies to export. Default ['strong']. */
  readModes?: Consistency[];
}

export interface ElleStats {
  operations: number;
  appends: number;
  reads: number;
  readsOmitted: number;
  keys: number;
}

export interface ElleExport {
  edn: string;
  stats: ElleStats;
}

export interface ElleLines {
  stats: ElleStats;
  /** Lines (invoke and completion events), each without its newline; rendered as iterated. */
  events: number;
  lines(): Generator<string>;
}

export interface ElleWriteOptions extends ElleExportOptions {
  /** Stop before the file would pass this many bytes. Default ELLE_MAX_BYTES. */
  maxBytes?: number;
}

export interface ElleWritten {
  stats: ElleStats;
  bytes: number;
  eventsWritten: number;
  events: number;
  /** True when the byte budget ended the file early. */
  truncated: boolean;
}

/** history.edn's default byte budget: Elle itself cannot hold much more than this in memory. */
export const ELLE_MAX_BYTES = 512 * 1024 * 1024;

interface Op {
  startMs: number;
  endMs: number;
  vu: number;
  type: 'ok' | 'fail' | 'info';
  /** The key as an EDN literal. */
  key: string;
  /** Appends: the turn id as an EDN literal. */
  value?: string;
  /** Reads: the epoch's positions (EDN literals; null where reads disagreed), then the window. */
  read?: { positions: ReadonlyArray<string | null | undefined>; first: number; ids: readonly string[] };
}

/** The whole export as one string: for tests and small histories (writeElle streams). */
export function exportElle(history: readonly HistoryEntry[], options: ElleExportOptions = {}): ElleExport {
  const e = elleLines(history, options);
  const parts: string[] = [];
  for (const line of e.lines()) parts.push(line, '\n');
  return { edn: parts.join(''), stats: e.stats };
}

/** Streams the export to `file`, chunk by chunk, never holding more than one chunk of text. */
export async function writeElle(history: readonly HistoryEntry[], file: string, options: ElleWriteOptions = {}): Promise<ElleWritten> {
  const e = elleLines(history, options);
  const maxBytes = options.maxBytes ?? ELLE_MAX_BYTES;
  const CHUNK_BYTES = 1 << 20;
  const fh = await open(file, 'w');
  let bytes = 0;
  let eventsWritten = 0;
  let truncated = false;
  try {
    let chunk: string[] = [];
    let chunkBytes = 0;
    for (const line of e.lines()) {
      const n = Buffer.byteLength(line) + 1;
      if (bytes + chunkBytes + n > maxBytes) {
        truncated = true;
        break;
      }
      chunk.push(line, '\n');
      chunkBytes += n;
      eventsWritten++;
      if (chunkBytes >= CHUNK_BYTES) {
        await fh.write(chunk.join(''));
        bytes += chunkBytes;
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (chunk.length) await fh.write(chunk.join(''));
    bytes += chunkBytes;
  } finally {
    await fh.close();
  }
  return { stats: e.stats, bytes, eventsWritten, events: e.events, truncated };
}

export function elleLines(history: readonly HistoryEntry[], options: ElleExportOptions = {}): ElleLines {
  const opts = resolveOptions(options);
  const readModes = new Set(options.readModes ?? ['strong']);
  const ops: Op[] = [];
  let readsOmitted = 0;
  let keys = 0;
  let appends = 0;
  let reads = 0;
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
      const positions: Array<string | null | undefined> = [];
      for (const e of epoch) {
        if (e.op === 'append' && e.turnId !== undefined) {
          const a = attempts.get(e.turnId);
          if (a) a.push(e);
          else attempts.set(e.turnId, [e]);
        }
        const o = observationOf(e, opts);
        if (!o) continue;
        const first = o.count - o.ids.length;
        for (let i = 0; i < o.ids.length; i++) {
          const p = first + i;
          if (p < 0) continue;
          const id = edn(o.ids[i]!);
          const had = positions[p];
          if (had === undefined) positions[p] = id;
          else if (had !== id) positions[p] = null;
        }
      }
      for (const turnId of n === 0 ? (seeded.get(s.key) ?? []) : []) {
        if (attempts.has(turnId)) continue;
        appends++;
        ops.push({ startMs: seedMs, endMs: seedMs, vu: -1, type: 'ok', key, value: edn(turnId) });
      }
      for (const [turnId, tries] of attempts) {
        // Interval of the attempts that may have applied, or of all of them when every one failed.
        const maybe = { startMs: Infinity, endMs: -Infinity, first: undefined as HistoryEntry | undefined };
        const all = { startMs: Infinity, endMs: -Infinity };
        let ack: HistoryEntry | undefined;
        for (const t of tries) {
          if (t.outcome === 'ok' && (!ack || t.endMs < ack.endMs)) ack = t;
          if (t.outcome !== 'fail') {
            maybe.first ??= t;
            maybe.startMs = Math.min(maybe.startMs, t.startMs);
            maybe.endMs = Math.max(maybe.endMs, t.endMs);
          }
          all.startMs = Math.min(all.startMs, t.startMs);
          all.endMs = Math.max(all.endMs, t.endMs);
        }
        const from = maybe.first ? maybe : all;
        const type = ack ? 'ok' : maybe.first ? 'info' : 'fail';
        const startMs = from.startMs;
        const endMs = ack ? ack.endMs : from.endMs;
        appends++;
        ops.push({ startMs, endMs, vu: (ack ?? maybe.first ?? tries[0]!).vu, type, key, value: edn(turnId) });
      }
      for (const e of epoch) {
        const o = observationOf(e, opts);
        if (!o || o.degraded || !readModes.has(o.consistency)) continue;
        const first = o.count - o.ids.length;
        let known = 0;
        while (known < first && positions[known]) known++;
        if (first < 0 || known < first) {
          readsOmitted++;
          continue;
        }
        reads++;
        ops.push({ startMs: e.startMs, endMs: e.endMs, vu: e.vu, type: 'ok', key, read: { positions, first, ids: o.ids } });
      }
    });
  }
  return { stats: { operations: ops.length, appends, reads, readsOmitted, keys }, events: 2 * ops.length, lines: () => render(ops) };
}

function* render(ops: Op[]): Generator<string> {
  // Processes: a VU keeps its process while its ops do not overlap; an overlapping op, or any op
  // after an :info (whose process stays open forever), gets a fresh one.
  ops.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  let nextProcess = 0;
  const current = new Map<number, { process: number; freeAtMs: number }>();
  const processOf = new Int32Array(ops.length);
  ops.forEach((op, seq) => {
    let p = current.get(op.vu);
    if (!p || p.freeAtMs > op.startMs) current.set(op.vu, (p = { process: nextProcess++, freeAtMs: -Infinity }));
    p.freeAtMs = op.type === 'info' ? Infinity : op.endMs;
    processOf[seq] = p.process;
  });
  // Event 2·seq is op seq's invoke, 2·seq+1 its completion. At equal times completions go first,
  // except a zero-length op's, which directly follows its invoke.
  const timeOf = (ev: number) => (ev & 1 ? ops[ev >>> 1]!.endMs : ops[ev >>> 1]!.startMs);
  const rankOf = (ev: number) => (ev & 1 && ops[ev >>> 1]!.endMs > ops[ev >>> 1]!.startMs ? 0 : 1);
  const events = new Uint32Array(2 * ops.length);
  for (let i = 0; i < events.length; i++) events[i] = i;
  events.sort((a, b) => timeOf(a) - timeOf(b) || rankOf(a) - rankOf(b) || a - b);
  const t0 = events.length ? timeOf(events[0]!) : 0;
  for (let index = 0; index < events.length; index++) {
    const ev = events[index]!;
    const op = ops[ev >>> 1]!;
    const invoke = (ev & 1) === 0;
    const type = invoke ? 'invoke' : op.type;
    yield `{:index ${index}, :time ${Math.round((0 + timeOf(ev) - t0) * 1e6)}, :type :${type}, :process ${processOf[ev >>> 1]}, :f :txn, :value ${valueOf(op, invoke)}}`;
  }
}

function valueOf(op: Op, invoke: boolean): string {
  if (op.value !== undefined) return `[[:append ${op.key} ${op.value}]]`;
  if (invoke) return `[[:r ${op.key} nil]]`;
  const { positions, first, ids } = op.read!;
  const list: string[] = [];
  for (let p = 0; p < first; p++) list.push(positions[p]!);
  for (const id of ids) list.push(edn(id));
  return `[[:r ${op.key} [${list.join(' ')}]]]`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** An EDN string literal. */
function edn(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
