/**
 * What a runner and the history sink agree on: paths, headers, limits, and the shape an entry must
 * have before the checkers may see it. Shared by the sink (src/record/sink.ts), the Node runner
 * client (src/record/sink-client.ts) and, by value, the k6 helper (scenarios/lib/history.ts, which
 * cannot import Node code and repeats the header names).
 *
 *   POST /runs/<runId>/history   body: JSON array of entries        204 applied, 200 duplicate
 *   POST /runs/<runId>/metrics   body: one runner's final metrics    204 applied, 200 duplicate
 *   headers: Authorization: Bearer <token>, X-Stateproof-Runner: <id>, X-Stateproof-Batch: <id>
 *
 * A batch is applied once per (runner, batch id): a runner that retries after a lost answer sends
 * the same id and gets 200 "duplicate", so delivery is at-least-once and the effect exactly-once.
 */
import { CONSISTENCY_MODES, OPS, STATE_MODES } from '../contract/wire.ts';
import type { HistoryEntry } from './history.ts';

export const SINK_HEADERS = Object.freeze({ runner: 'x-stateproof-runner', batch: 'x-stateproof-batch' });
/** The env a runner reads: where to POST and the bearer token. */
export const SINK_ENV = Object.freeze({ url: 'STATEPROOF_HISTORY_URL', token: 'STATEPROOF_SINK_TOKEN', runner: 'STATEPROOF_RUNNER_ID' });

export const SINK_LIMITS = Object.freeze({
  /** Entries per POST; the k6 helper sends 200. */
  maxBatchEntries: 5_000,
  /** Bytes per POST body (a read entry carries the window's turn ids, so 5,000 of them fit well). */
  maxBatchBytes: 8 * 1024 * 1024,
  /** Distinct runners one run accepts: beyond this a runner id is refused (memory stays bounded). */
  maxRunners: 10_000,
});

/** Runner and batch ids: short, printable, no separators the report or a path could trip on. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export type Rejection = 'unauthorized' | 'unknown-run' | 'malformed' | 'too-large' | 'too-many-runners';

const OUTCOMES = new Set(['ok', 'fail', 'unknown']);
const OP_SET = new Set<string>(OPS);
const MODE_SET = new Set<string>(STATE_MODES);
const CONSISTENCY_SET = new Set<string>(CONSISTENCY_MODES);

const isStr = (v: unknown, max = 1024): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

type Check = (v: unknown) => boolean;
/** Optional fields, each checked when present: a wrong type would crash or mislead a checker. */
const OPTIONAL: Record<string, Check> = {
  tenant: (v) => isStr(v, 256),
  turnId: (v) => isStr(v, 1024),
  ifMatch: isInt,
  consistency: (v) => typeof v === 'string' && CONSISTENCY_SET.has(v),
  code: (v) => isStr(v, 256),
  revision: isInt,
  turnCount: isInt,
  turnIds: (v) => Array.isArray(v) && v.length <= 100_000 && v.every((x) => isStr(x, 1024)),
  applied: (v) => typeof v === 'boolean',
  mode: (v) => typeof v === 'string' && MODE_SET.has(v),
  bodyMode: (v) => typeof v === 'string' && MODE_SET.has(v),
  schemaVersion: isInt,
  instance: (v) => isStr(v, 256),
  bytes: (v) => isNum(v) && v >= 0,
  summary: (v) => isStr(v, 1 << 20),
  phase: (v) => isStr(v, 256),
};

/**
 * Why `x` is not a history entry, or undefined when it is one (without `id`: the recorder assigns it).
 * Optional fields that are null are removed in place.
 */
export function entryProblem(x: unknown): string | undefined {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return 'an entry must be a JSON object';
  const o = x as Record<string, unknown>;
  if (typeof o.op !== 'string' || !OP_SET.has(o.op)) return `op must be one of ${OPS.join(', ')}`;
  if (!isStr(o.session, 1024) || o.session === '') return 'session must be a non-empty string';
  for (const k of ['intendedStartMs', 'startMs', 'endMs'] as const) if (!isNum(o[k])) return `${k} must be a finite number (epoch ms)`;
  if (typeof o.outcome !== 'string' || !OUTCOMES.has(o.outcome)) return 'outcome must be ok, fail or unknown';
  if (!isInt(o.status) || (o.status as number) < 0 || (o.status as number) > 999) return 'status must be an HTTP status (0 when no answer came)';
  if (!isInt(o.vu) || (o.vu as number) < 0) return 'vu must be a non-negative integer';
  for (const [k, ok] of Object.entries(OPTIONAL)) {
    // JSON has no undefined: a helper that serialises an absent field as null means "absent".
    if (o[k] === null) delete o[k];
    else if (o[k] !== undefined && !ok(o[k])) return `${k} has the wrong type`;
  }
  return undefined;
}

export function isEntry(x: unknown): x is Omit<HistoryEntry, 'id'> {
  return entryProblem(x) === undefined;
}

/** `/runs/<runId>/<kind>` → its parts; undefined for any other path. */
export function parseSinkPath(url: string): { runId: string; kind: 'history' | 'metrics' } | undefined {
  const q = url.indexOf('?');
  const m = /^\/runs\/([^/]+)\/(history|metrics)$/.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return undefined;
  let runId: string;
  try {
    runId = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  return { runId, kind: m[2] as 'history' | 'metrics' };
}
