/**
 * The in-memory shape every schema version decodes to and encodes from. Versions differ only in
 * how this is laid out in the store (see v1.ts, v2.ts, v3.ts).
 */
export interface Turn {
  turnId: string;
  user: string;
  assistant: string;
  /** When it was applied (epoch ms); 0 when unknown (migrated from a version that did not keep it). */
  atMs: number;
}

export interface SessionState {
  /** The retained window, oldest first. */
  turns: Turn[];
  /** Every applied turn ever, including those compacted into the summary. */
  turnCount: number;
  /** Turns folded into the summary. */
  compactedTurns: number;
  /** Facts the user pinned ("remember: ..."), oldest first; they survive compaction. */
  pinned: string[];
  createdAtMs: number;
  updatedAtMs: number;
}

export function emptyState(nowMs: number): SessionState {
  return { turns: [], turnCount: 0, compactedTurns: 0, pinned: [], createdAtMs: nowMs, updatedAtMs: nowMs };
}

/** The deterministic compact summary text served as `summary`. */
export function summaryText(compactedTurns: number, pinned: readonly string[]): string {
  if (compactedTurns === 0 && pinned.length === 0) return '';
  const head = `${compactedTurns} earlier turn${compactedTurns === 1 ? '' : 's'} compacted.`;
  return pinned.length ? `${head} Pinned facts: ${pinned.join('; ')}` : head;
}

/** Thrown when stored data does not have the shape a decoder expects. */
export class SchemaMismatchError extends Error {
  override name = 'SchemaMismatchError';
}

export function need(cond: unknown, what: string): asserts cond {
  if (!cond) throw new SchemaMismatchError(what);
}

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isStr = (v: unknown): v is string => typeof v === 'string';
export const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
export const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
