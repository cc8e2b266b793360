/**
 * Talking to a backend before judging it: a preflight that refuses, in seconds, a target that is
 * unreachable or does not speak the contract (a run at 100 % errors proves nothing), and the
 * probes behind `stateproof backend check`, which set what a backend declares beside what it does.
 *
 *   preflight:  GET unknown session (404) ─▶ append (200, applied) ─▶ replay (applied:false,
 *               same turnCount) ─▶ read (200, holds the turn) ─▶ delete      per instance, per tenant
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { EnvironmentError } from '../base/errors.ts';

export const PROBE_TIMEOUT_MS = 5_000;

export interface ProbeAnswer {
  status: number;
  contentType: string;
  mode: string | null;
  body: unknown;
  text: string;
}

export interface ProbeTarget {
  url: string;
  token?: string;
}

/** One contract request; transport failures become a sentence naming the URL and the cause. */
export async function probe(t: ProbeTarget, method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<ProbeAnswer> {
  const url = `${t.url}${pathname}`;
  // undici's request, not fetch: fetch refuses some ports outright ("bad port"), which would
  // hide the answer a user needs ("connection refused").
  let status: number;
  let contentType: string;
  let mode: string | null;
  let text: string;
  try {
    const res = await request(url, {
      method: method as 'GET',
      headers: {
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: PROBE_TIMEOUT_MS,
      bodyTimeout: PROBE_TIMEOUT_MS,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    status = res.statusCode;
    contentType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const m = res.headers['x-state-mode'];
    mode = m === undefined ? null : String(m);
    text = await res.body.text();
  } catch (e) {
    throw new EnvironmentError(`${t.url}: ${transportReason(e)}. Is the backend running there? (${method} ${pathname})`);
  }
  let parsed: unknown;
  if (/json/.test(contentType)) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status, contentType, mode, body: parsed, text };
}

function transportReason(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  if (err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${PROBE_TIMEOUT_MS / 1000} s`;
  const code = err.code ?? err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  return err.cause?.message ?? err.message ?? String(e);
}

const notContract = (t: ProbeTarget, method: string, pathname: string, a: ProbeAnswer, why: string) =>
  new EnvironmentError(`${t.url}${pathname}: ${method} answered ${a.status}${a.contentType ? ` ${a.contentType}` : ''}: ${why}; not the stateproof contract (reference-service/openapi.json).`);

const field = (a: ProbeAnswer, k: string): unknown => (a.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>)[k] : undefined);

/**
 * A few contract requests against every instance with every tenant token. Throws an
 * EnvironmentError (exit 3) with one line saying what was wrong; returns the answers seen.
 */
export async function preflight(instances: readonly string[], tokens: readonly (string | undefined)[]): Promise<{ requests: number }> {
  let requests = 0;
  for (const url of instances) {
    for (const [i, token] of tokens.entries()) {
      const t = { url, token };
      const who = tokens.length > 1 ? ` (tenant token #${i + 1})` : '';
      const session = `stateproof-preflight-${randomUUID().slice(0, 8)}`;
      const turnId = `preflight-${randomUUID()}`;
      const path = `/v1/sessions/${session}`;
      const refused = (a: ProbeAnswer) => {
        if (a.status === 401 || a.status === 403)
          throw new EnvironmentError(`${url}: the backend refused the bearer token${who} (${a.status}). Give the token it accepts: tenants in the backend profile, or -e STATEPROOF_TOKEN=...`);
      };
      const missing = await probe(t, 'GET', path);
      requests++;
      refused(missing);
      if (missing.status !== 404) throw notContract(t, 'GET', path, missing, 'a session that was never written must answer 404');
      const append = await probe(t, 'POST', `${path}/turns`, { turnId, content: 'stateproof preflight' });
      requests++;
      refused(append);
      if (append.status !== 200 || typeof field(append, 'turnCount') !== 'number' || typeof field(append, 'revision') !== 'number')
        throw notContract(t, 'POST', `${path}/turns`, append, 'an append must answer 200 JSON with revision and turnCount');
      if (append.mode !== 'normal' && append.mode !== 'degraded') throw notContract(t, 'POST', `${path}/turns`, append, 'every answer must carry X-State-Mode: normal or degraded');
      const replay = await probe(t, 'POST', `${path}/turns`, { turnId, content: 'stateproof preflight' });
      requests++;
      if (replay.status !== 200) throw notContract(t, 'POST', `${path}/turns`, replay, 'replaying a turnId must answer 200 (applied:false)');
      const read = await probe(t, 'GET', path);
      requests++;
      if (read.status !== 200 || !Array.isArray(field(read, 'turns'))) throw notContract(t, 'GET', path, read, 'a written session must answer 200 JSON with its turns');
      await probe(t, 'DELETE', path).catch(() => undefined);
      requests++;
    }
  }
  return { requests };
}
