/**
 * /metrics of every instance, scraped before and after the load, and sampled during it for the
 * breaker-state timeline. A scrape that fails is recorded as missing, never fatal: the metrics
 * cross-check then says what was missing.
 */
import { request } from 'undici';
import { parsePrometheusText } from '../check/prom-text.ts';

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
  const v = text === undefined ? undefined : parsePrometheusText(text).get('stateproof_breaker_state')?.samples[0]?.value;
  return v === 0 || v === 1 || v === 2 ? v : undefined;
}
