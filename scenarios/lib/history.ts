/**
 * Records each operation a scenario makes as a history entry (see src/record/history.ts), for the
 * checkers. k6-valid code, no Node APIs: the same source runs under real k6 and the built-in engine.
 *
 * - Built-in engine: entries go to the engine in-process, at once (flushHistory() is a no-op).
 * - Real k6: VUs share no memory, so each VU buffers entries and POSTs them in batches to
 *   __ENV.STATEPROOF_HISTORY_URL (the harness's loopback sink). Call `await flushHistory()` at the
 *   end of every iteration: k6 has no per-VU shutdown hook, so a buffer left over would be lost.
 *   Without STATEPROOF_HISTORY_URL nothing is recorded.
 *
 * Usage:
 *   const startMs = Date.now();
 *   const res = await http.asyncRequest('POST', turnsUrl(id), body, { headers });
 *   recordOp({ op: 'append', session: id, turnId, intendedStartMs: intendedStartMs(startMs),
 *              startMs, endMs: Date.now(), outcome: outcomeOf(res.status), status: res.status });
 *   await flushHistory();
 */
import http from 'k6/http';
import exec from 'k6/execution';
import type { HistoryEntry, Outcome } from '../../src/record/history.ts';

// k6 provides console at run time; @types/k6 does not declare it.
declare const console: { error(...args: unknown[]): void };

/** `vu` is the recording VU unless given: a scenario may act as a second client (see replays.ts). */
export type OpEntry = Omit<HistoryEntry, 'id' | 'vu'> & { vu?: number };

interface EngineHook {
  recordHistory(entry: Omit<HistoryEntry, 'id'>): void;
  lagMs(): number;
}

/** Entries per POST under real k6. */
export const HISTORY_BATCH_SIZE = 200;
/** The tag the sink's requests carry, so they can be told apart from the scenario's own. */
export const HISTORY_REQUEST_NAME = 'stateproof_history';

// STATEPROOF_HISTORY_TRANSPORT=http makes the built-in engine use the sink too (tests the k6 path).
const hook =
  __ENV.STATEPROOF_HISTORY_TRANSPORT === 'http' ? undefined : (exec as unknown as Record<symbol, EngineHook | undefined>)[Symbol.for('stateproof.engine')];
const sinkUrl: string | undefined = __ENV.STATEPROOF_HISTORY_URL || undefined;
let buffer: Array<Omit<HistoryEntry, 'id'>> = [];

// A VU's id never changes and each VU has its own instance of this module: read once (it is asked per operation).
let knownVuId: number | undefined;

function vuId(): number {
  if (knownVuId !== undefined) return knownVuId;
  try {
    knownVuId = exec.vu.idInTest;
    return knownVuId;
  } catch {
    return 0; // setup() and teardown() run outside any VU
  }
}

/** Takes ownership of `entry` (it is completed in place, not copied: this runs once per request). */
export function recordOp(entry: OpEntry): void {
  const full = entry as Omit<HistoryEntry, 'id'>;
  full.vu = entry.vu ?? vuId();
  if (hook) {
    hook.recordHistory(full);
    return;
  }
  if (!sinkUrl) return;
  buffer.push(full);
  if (buffer.length >= HISTORY_BATCH_SIZE) void send(takeBuffer());
}

export async function flushHistory(): Promise<void> {
  if (hook || !sinkUrl || buffer.length === 0) return;
  await send(takeBuffer());
}

/**
 * When the operation was meant to start: under the built-in engine's arrival-rate executors, the
 * scheduled time (startMs minus how late the iteration began); otherwise startMs itself.
 */
export function intendedStartMs(startMs: number): number {
  return hook ? startMs - hook.lagMs() : startMs;
}

/** The contract's outcome rule: 2xx ok; 4xx and 503 (not made durable) fail; no answer or other 5xx unknown. */
export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if ((status >= 400 && status < 500) || status === 503) return 'fail';
  return 'unknown';
}

function takeBuffer(): Array<Omit<HistoryEntry, 'id'>> {
  const out = buffer;
  buffer = [];
  return out;
}

async function send(batch: Array<Omit<HistoryEntry, 'id'>>): Promise<void> {
  const res = await http.asyncRequest('POST', sinkUrl!, JSON.stringify(batch), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: HISTORY_REQUEST_NAME },
    timeout: '30s',
  });
  if (res.status !== 204) console.error(`history sink answered ${res.status}: ${batch.length} entries lost (${res.error || res.body})`);
}
