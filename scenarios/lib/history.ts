/**
 * Records each operation a scenario makes as a history entry (see src/record/history.ts), for the
 * checkers. k6-valid code, no Node APIs: the same source runs under real k6 and the built-in engine.
 *
 * - Built-in engine: entries go to the engine in-process, at once (flushHistory() is a no-op).
 * - Real k6: VUs share no memory, so each VU buffers entries and POSTs them in batches to
 *   __ENV.STATEPROOF_HISTORY_URL (the harness's sink), with the run's bearer token
 *   (__ENV.STATEPROOF_SINK_TOKEN) and a batch id. A batch whose answer is lost or says "try again"
 *   (no answer, 5xx, 429) is sent again with the same id; the sink applies it once. Call
 *   `await flushHistory()` at the end of every iteration: k6 has no per-VU shutdown hook, so a
 *   buffer left over would be lost. Without STATEPROOF_HISTORY_URL nothing is recorded.
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
import { setTimeout } from 'k6/timers';
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
const sinkToken: string = __ENV.STATEPROOF_SINK_TOKEN || '';
/** Tries per batch (the first and its retries), and the pause before each retry. */
const SEND_ATTEMPTS = 4;
const RETRY_BASE_MS = 250;
// Batch ids must not repeat within a runner: several pods may share a runner id and VU ids, so each
// VU's module instance adds a random nonce (k6 VUs are initialised once, so it never changes).
const nonce = Math.floor(Math.random() * 2 ** 32).toString(36);
let sequence = 0;
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

/** Who this runner is in the report: STATEPROOF_RUNNER_ID, else its execution segment, else "k6". */
function runnerId(): string {
  if (__ENV.STATEPROOF_RUNNER_ID) return __ENV.STATEPROOF_RUNNER_ID;
  try {
    const seg = (exec.test.options as { executionSegment?: string }).executionSegment;
    if (seg) return `segment-${String(seg).replace(/[^A-Za-z0-9._:-]/g, '_')}`;
  } catch {
    // outside a VU, or an engine without test options
  }
  return 'k6';
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function send(batch: Array<Omit<HistoryEntry, 'id'>>): Promise<void> {
  const body = JSON.stringify(batch);
  const headers = {
    'Content-Type': 'application/json',
    Authorization: `Bearer ${sinkToken}`,
    'X-Stateproof-Runner': runnerId(),
    'X-Stateproof-Batch': `${vuId()}.${nonce}.${++sequence}`,
  };
  let last = '';
  for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
    const res = await http.asyncRequest('POST', sinkUrl!, body, { headers, tags: { name: HISTORY_REQUEST_NAME }, timeout: '30s' });
    // 200: a retry of a batch the sink had already applied (its first answer was lost).
    if (res.status === 204 || res.status === 200) return;
    last = `${res.status}: ${res.error || res.body}`;
    const retriable = res.status === 0 || res.status === 429 || res.status >= 500;
    if (!retriable) break;
    if (attempt < SEND_ATTEMPTS) await pause(RETRY_BASE_MS * 2 ** (attempt - 1));
  }
  console.error(`history sink answered ${last}: ${batch.length} entries lost`);
}
