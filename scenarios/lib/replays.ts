/**
 * Retries and replays, as real clients make them: the same turnId sent again after an
 * acknowledged write, concurrently by a second client (through another instance, since the
 * router alternates), and as the client's retry after a timeout or another unknown outcome.
 * Idempotency bugs live exactly there; the checkers then see the duplicates (no-duplicates) and
 * the replays' answers (revision-per-turn: applied:false, turnCount unchanged).
 */
import { appendTurn, type AppendOptions, type AppendResult } from './session-ops.ts';
import { pause } from './spec.ts';

/** Client ids of the concurrent second sender: its own client in the history, never a real VU. */
export const TWIN_CLIENT_OFFSET = 1_000_000;

export interface ReplayRates {
  /** Fraction of appends sent again right after their acknowledgement. Default 0.08. */
  afterAck?: number;
  /** Fraction sent twice at once, by a second client. Default 0.04. */
  concurrent?: number;
  /** Retry an append whose outcome is unknown (timeout, 5xx, 503) once with the same turnId. Default true. */
  retryUnknown?: boolean;
}

/** One append with the replays a client would make; `roll` is a number in [0, 1) from the scenario's seeded stream. */
export async function appendWithReplays(session: string, turnId: string, content: string, roll: number, vu: number, opts: AppendOptions = {}, rates: ReplayRates = {}): Promise<AppendResult> {
  const afterAck = rates.afterAck ?? 0.08;
  const concurrent = rates.concurrent ?? 0.04;
  let result: AppendResult;
  if (roll < concurrent) {
    const [first] = await Promise.all([
      appendTurn(session, turnId, content, opts),
      appendTurn(session, turnId, content, { ...opts, client: TWIN_CLIENT_OFFSET + vu, tags: { ...opts.tags, replay: 'concurrent' } }),
    ]);
    result = first;
  } else {
    result = await appendTurn(session, turnId, content, opts);
  }
  if (!result.ok && result.status !== 0 && result.status < 500) return result; // a definite refusal: nothing to retry
  if (!result.ok && rates.retryUnknown !== false) {
    await pause(50);
    return appendTurn(session, turnId, content, { ...opts, tags: { ...opts.tags, replay: 'retry' } });
  }
  if (result.ok && roll >= concurrent && roll < concurrent + afterAck) await appendTurn(session, turnId, content, { ...opts, tags: { ...opts.tags, replay: 'after-ack' } });
  return result;
}
