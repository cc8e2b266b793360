/** Builds hand-written histories for checker tests: ids in order, sensible defaults. */
import type { HistoryEntry } from '../../src/record/history.ts';

type AppendSpec = Partial<HistoryEntry> & { turnId: string; at: number; dur?: number };
type ReadSpec = Partial<HistoryEntry> & { ids?: string[]; count?: number; at: number; dur?: number };

export class HistoryBuilder {
  readonly entries: HistoryEntry[] = [];

  append(spec: AppendSpec): HistoryEntry {
    const { at, dur = 5, ...rest } = spec;
    const outcome = rest.outcome ?? 'ok';
    const status = rest.status ?? (outcome === 'ok' ? 200 : outcome === 'fail' ? 409 : 0);
    return this.push({
      vu: 1,
      op: 'append',
      session: 's1',
      intendedStartMs: at,
      startMs: at,
      endMs: at + dur,
      outcome,
      status,
      mode: status > 0 ? 'normal' : undefined,
      applied: outcome === 'ok' ? true : undefined,
      revision: rest.turnCount,
      ...rest,
    });
  }

  read(spec: ReadSpec): HistoryEntry {
    const { at, dur = 5, ids = [], count, ...rest } = spec;
    return this.push({
      vu: 1,
      op: 'read',
      session: 's1',
      intendedStartMs: at,
      startMs: at,
      endMs: at + dur,
      outcome: 'ok',
      status: 200,
      mode: 'normal',
      turnIds: ids,
      turnCount: count ?? ids.length,
      revision: count ?? ids.length,
      ...rest,
    });
  }

  delete(spec: Partial<HistoryEntry> & { at: number; dur?: number }): HistoryEntry {
    const { at, dur = 5, ...rest } = spec;
    return this.push({ vu: 1, op: 'delete', session: 's1', intendedStartMs: at, startMs: at, endMs: at + dur, outcome: 'ok', status: 204, mode: 'normal', ...rest });
  }

  private push(e: Omit<HistoryEntry, 'id'>): HistoryEntry {
    const entry = { id: this.entries.length + 1, ...e } as HistoryEntry;
    this.entries.push(entry);
    return entry;
  }
}

/** A correct single-client session: n appends, each followed by a strong read. */
export function sequentialSession(b: HistoryBuilder, n: number, opts: { session?: string; vu?: number; startMs?: number } = {}): void {
  const ids: string[] = [];
  const session = opts.session ?? 's1';
  const vu = opts.vu ?? 1;
  let t = opts.startMs ?? 0;
  for (let i = 1; i <= n; i++) {
    const turnId = `${session}-t${i}`;
    ids.push(turnId);
    b.append({ session, vu, turnId, turnCount: i, at: t });
    b.read({ session, vu, ids: ids.slice(-10), count: i, at: t + 10 });
    t += 20;
  }
}
