/** Small clients for topology integration tests: contract calls with a tenant's token. */
import { INSTANCE_HEADER } from '../../src/contract/wire.ts';

export interface Answer {
  status: number;
  instance: string | null;
  mode: string | null;
  body: Record<string, unknown>;
}

export async function api(base: string, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, instance: res.headers.get(INSTANCE_HEADER), mode: res.headers.get('x-state-mode'), body: parsed };
}

let turnSeq = 0;
export function append(base: string, token: string, session: string, content = 'hello'): Promise<Answer> {
  return api(base, token, 'POST', `/v1/sessions/${encodeURIComponent(session)}/turns`, { turnId: `t-${process.pid}-${++turnSeq}`, content });
}

export function read(base: string, token: string, session: string, consistency = 'strong'): Promise<Answer> {
  return api(base, token, 'GET', `/v1/sessions/${encodeURIComponent(session)}?consistency=${consistency}`);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
