import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { elleLines, exportElle, writeElle } from '../../src/check/index.ts';
import { HistoryBuilder, sequentialSession } from './history-builder.ts';

/** Just enough EDN to read the export back: maps, vectors, keywords, strings, integers, nil. */
function readEdn(src: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < src.length && /[\s,]/.test(src[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = src[i]!;
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      const items: unknown[] = [];
      for (ws(); src[i] !== close; ws()) {
        if (i >= src.length) throw new Error('unterminated');
        items.push(value());
      }
      i++;
      if (c === '[') return items;
      if (items.length % 2 !== 0) throw new Error('odd map');
      const m: Record<string, unknown> = {};
      for (let k = 0; k < items.length; k += 2) m[String(items[k])] = items[k + 1];
      return m;
    }
    if (c === '"') {
      let s = '';
      for (i++; src[i] !== '"'; i++) s += src[i] === '\\' ? src[++i] : src[i];
      i++;
      return s;
    }
    const tok = /^[^\s,\]\}]+/.exec(src.slice(i))![0];
    i += tok.length;
    if (tok === 'nil') return null;
    if (tok.startsWith(':')) return tok;
    if (/^-?\d+$/.test(tok)) return Number(tok);
    throw new Error(`bad token ${tok}`);
  };
  const v = value();
  ws();
  if (i !== src.length) throw new Error('trailing input');
  return v;
}

type Op = { ':index': number; ':time': number; ':type': string; ':process': number; ':f': string; ':value': unknown[][] };
const parse = (edn: string) => edn.trimEnd().split('\n').map((l) => readEdn(l) as Op);

describe('exportElle', () => {
  it('writes one Jepsen op map per line with list-append micro-ops', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't"1', turnCount: 1, at: 0 });
    b.read({ ids: ['t"1'], count: 1, at: 10 });
    const { edn, stats } = exportElle(b.entries);
    const ops = parse(edn);
    expect(ops.map((o) => o[':type'])).toEqual([':invoke', ':ok', ':invoke', ':ok']);
    expect(ops.map((o) => o[':index'])).toEqual([0, 1, 2, 3]);
    expect(ops[0]).toEqual({ ':index': 0, ':time': 0, ':type': ':invoke', ':process': 0, ':f': ':txn', ':value': [[':append', 's1', 't"1']] });
    expect(ops[1]![':time']).toBe(5_000_000); // ns
    expect(ops[2]![':value']).toEqual([[':r', 's1', null]]);
    expect(ops[3]![':value']).toEqual([[':r', 's1', ['t"1']]]);
    expect(stats).toMatchObject({ appends: 1, reads: 1, readsOmitted: 0, keys: 1 });
  });

  it('maps outcomes to :ok/:fail/:info, merges retries of one turn id, and never reuses an :info process', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 'a', outcome: 'fail', status: 409, at: 0 });
    b.append({ turnId: 'b', outcome: 'unknown', at: 10, dur: 100 });
    b.append({ turnId: 'c', outcome: 'unknown', at: 200 });
    b.append({ turnId: 'c', applied: false, turnCount: 1, at: 300 });
    b.read({ ids: ['c'], count: 1, at: 400 });
    const ops = parse(exportElle(b.entries).edn);
    const completions = ops.filter((o) => o[':type'] !== ':invoke');
    expect(completions.map((o) => [o[':type'], (o[':value'][0] as unknown[])[2]])).toEqual([
      [':fail', 'a'],
      [':info', 'b'],
      [':ok', 'c'],
      [':ok', ['c']],
    ]);
    const info = ops.find((o) => o[':type'] === ':info')!;
    expect(ops.filter((o) => o[':process'] === info[':process'] && o[':index'] > info[':index'])).toEqual([]);
    // every process alternates invoke / completion
    const open = new Map<number, boolean>();
    for (const o of ops) {
      const isInvoke = o[':type'] === ':invoke';
      expect(open.get(o[':process']) ?? false).toBe(!isInvoke);
      open.set(o[':process'], isInvoke);
    }
    // times never go backwards
    for (let k = 1; k < ops.length; k++) expect(ops[k]![':time']).toBeGreaterThanOrEqual(ops[k - 1]![':time']);
  });

  it('completes tail windows into whole lists from earlier reads, and omits reads it cannot complete', () => {
    const b = new HistoryBuilder();
    sequentialSession(b, 12); // every read shows a window of up to 10
    b.read({ vu: 2, ids: ['s1-t12'], count: 12, at: 10_000 });
    b.read({ vu: 2, session: 's2', ids: ['z'], count: 5, at: 10_000 }); // positions 0..3 never seen
    const { edn, stats } = exportElle(b.entries);
    const reads = parse(edn).filter((o) => o[':type'] === ':ok' && (o[':value'][0] as unknown[])[0] === ':r');
    const last = reads.at(-1)![':value'][0] as unknown[];
    expect(last[2]).toEqual(Array.from({ length: 12 }, (_, k) => `s1-t${k + 1}`));
    expect(stats.readsOmitted).toBe(1);
  });

  it('gives each epoch after a delete its own key and leaves out degraded and eventual reads', () => {
    const b = new HistoryBuilder();
    b.append({ turnId: 't1', turnCount: 1, at: 0 });
    b.delete({ at: 10 });
    b.append({ turnId: 't2', turnCount: 1, at: 20 });
    b.read({ ids: ['t2'], count: 1, at: 30 });
    b.read({ ids: ['t2'], count: 1, at: 40, mode: 'degraded' });
    b.read({ ids: [], count: 0, at: 50, consistency: 'eventual' });
    const { edn, stats } = exportElle(b.entries);
    expect(edn).toContain('[[:append "s1" "t1"]]');
    expect(edn).toContain('[[:r "s1#1" ["t2"]]]');
    expect(stats).toMatchObject({ keys: 2, reads: 1 });
  });
});

describe('exportElle with seeded sessions and at scale', () => {
  it('emits seeded turns as appends completed before the run', () => {
    const b = new HistoryBuilder();
    b.read({ ids: ['old1', 'old2'], count: 2, at: 100 });
    const ops = parse(exportElle(b.entries, { seeded: [{ session: 's1', turnIds: ['old1', 'old2'] }] }).edn);
    expect(ops.slice(0, 4).map((o) => [o[':type'], o[':time'], (o[':value'][0] as unknown[])[2]])).toEqual([
      [':invoke', 0, 'old1'],
      [':ok', 0, 'old1'],
      [':invoke', 0, 'old2'],
      [':ok', 0, 'old2'],
    ]);
  });

  it('exports a 200k-entry history', async () => {
    const { simulateHistory } = await import('./simulated-history.ts');
    // Line by line, as writeElle reads them: the whole text is never one string.
    const { lines: render, stats } = elleLines(simulateHistory({ entries: 200_000, sessions: 2_000, vus: 50 }));
    expect(stats.readsOmitted).toBe(0);
    const lines = [...render()];
    expect(lines).toHaveLength(2 * stats.operations);
    // every process alternates invoke / completion, and an :info process is never used again
    const state = new Map<string, 'open' | 'closed' | 'dead'>();
    for (const l of lines) {
      const [, type, process] = /:type :(\w+), :process (\d+)/.exec(l)!;
      const was = state.get(process!) ?? 'closed';
      expect(was).toBe(type === 'invoke' ? 'closed' : 'open');
      state.set(process!, type === 'invoke' ? 'open' : type === 'info' ? 'dead' : 'closed');
    }
  }, 180_000);
});

describe('writeElle', () => {
  it('streams the same lines to the file, and under a byte budget stops at a line boundary saying so', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-elle-'));
    try {
      const b = new HistoryBuilder();
      sequentialSession(b, 40);
      const whole = exportElle(b.entries).edn;
      const file = path.join(dir, 'history.edn');
      const all = await writeElle(b.entries, file);
      expect(await readFile(file, 'utf8')).toBe(whole);
      expect(all).toMatchObject({ truncated: false, bytes: Buffer.byteLength(whole), eventsWritten: all.events });

      const budget = Math.floor(Buffer.byteLength(whole) / 3);
      const cut = await writeElle(b.entries, file, { maxBytes: budget });
      const text = await readFile(file, 'utf8');
      expect(cut.truncated).toBe(true);
      expect(cut.bytes).toBe(Buffer.byteLength(text));
      expect(cut.bytes).toBeLessThanOrEqual(budget);
      expect(whole.startsWith(text)).toBe(true);
      expect(text.endsWith('\n')).toBe(true);
      expect(text.split('\n').length - 1).toBe(cut.eventsWritten);
      expect(cut.eventsWritten).toBeLessThan(cut.events);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
