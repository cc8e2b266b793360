/**
 * Why requests failed, counted by reason: `http_req_failed 100 %` alone does not tell a user that
 * nothing listens on the port. Real k6 logs a WARN per failed request; the built-in engine counts
 * each distinct reason once (in the order first seen, with one example request) and the CLI prints
 * the first few. Distinct reasons are capped so a run of unique error texts stays small.
 */
export interface FailureReason {
  reason: string;
  count: number;
  /** The first request that failed this way, e.g. "GET http://127.0.0.1:9/x". */
  example: string;
}

export const MAX_DISTINCT_REASONS = 100;

export class FailureReasons {
  private readonly byReason = new Map<string, FailureReason>();
  /** Failures whose reason arrived after the cap. */
  overflow = 0;

  add(reason: string, method: string, url: string): void {
    const r = this.byReason.get(reason);
    if (r) r.count++;
    else if (this.byReason.size < MAX_DISTINCT_REASONS) this.byReason.set(reason, { reason, count: 1, example: `${method} ${url}` });
    else this.overflow++;
  }

  list(): FailureReason[] {
    return [...this.byReason.values()].map((r) => ({ ...r }));
  }
}

/**
 * The reason of one failed request: the transport error as undici gave it, or the status that the
 * response callback did not expect. URLs vary per session, so the reason leaves them out and the
 * origin stands for where it went.
 */
export function failureReason(res: { status: number; error: string; error_code: number }, origin: string): string {
  if (res.error_code) {
    const text = res.error || `error code ${res.error_code}`;
    return text.includes(origin.replace(/^[a-z]+:\/\//, '')) ? text : `${text} (${origin})`;
  }
  return `status ${res.status}, not an expected status (${origin})`;
}

/** Lines for a terminal: the first `shown` reasons with counts, then how many more. */
export function formatFailureReasons(reasons: readonly FailureReason[], overflow = 0, shown = 3): string[] {
  const lines = reasons.slice(0, shown).map((r) => `WARN Request Failed: ${r.count} × ${r.reason}, e.g. ${r.example}`);
  const rest = reasons.slice(shown);
  const restCount = rest.reduce((a, r) => a + r.count, 0) + overflow;
  if (rest.length || overflow) {
    lines.push(`WARN … and ${rest.length}${overflow ? '+' : ''} more distinct reason${rest.length === 1 && !overflow ? '' : 's'} (${restCount} request${restCount === 1 ? '' : 's'})`);
  }
  return lines;
}
