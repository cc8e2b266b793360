/**
 * Secrets never reach a report. redact() returns a deep, frozen copy of any JSON-like value with:
 * - values under secret-looking keys (token, password, secret, authorization, api key, credential,
 *   cookie) replaced by REDACTED — the whole value, so a token→tenant map loses its tokens too;
 * - passwords in URLs (`redis://user:pw@host`) and secret query parameters (`?token=...`) masked;
 * - `Bearer <token>` in free text masked.
 * Used on config and topology before they enter result.json, and again by every writer, so a
 * hand-edited result.json cannot leak either.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY = /(token|passw(or)?d|\bpwd\b|secret|authori[sz]ation|api[-_]?key|credential|cookie|private[-_]?key)/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi;
const SECRET_QUERY = /([?&](?:token|access_token|password|passwd|secret|api[-_]?key|key|auth)=)[^&#\s]*/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

export function redactString(s: string): string {
  return s
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(SECRET_QUERY, (_m, head: string) => `${head}${REDACTED}`)
    .replace(BEARER, (_m, head: string) => `${head}${REDACTED}`);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redact<T>(value: T): T {
  return deepFreeze(redactValue(value, 0)) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  // Config is shallow; a cycle or absurd depth is a producer bug, not something to recurse into forever.
  if (depth > 64) return '[too deep]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof URL) return redactString(value.href);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
