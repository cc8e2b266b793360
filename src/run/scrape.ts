/**
 * /metrics of every instance, scraped before and after the load, and sampled during it for the
 * breaker-state timeline. A scrape that fails is recorded as missing, never fatal: the metrics
 * cross-check then says what was missing.
 */
import { request } from 'undici';

export async function scrapeMetrics(baseUrl: string, timeoutMs = 3_000): Promise<string | undefined> {
  try {
    const res = await request(`${baseUrl.replace(/\/+$/, '')}/metrics`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    return res.statusCode === 200 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** stateproof_breaker_state's value in a scrape, when present. */
export function breakerState(text: string | undefined): 0 | 1 | 2 | undefined {
  const m = text && /^stateproof_breaker_state(?:\{[^}]*\})? (\d+)/m.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v === 0 || v === 1 || v === 2 ? v : undefined;
}
