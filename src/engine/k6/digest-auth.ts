/** HTTP digest access authentication (RFC 7616; qop "auth", MD5 or SHA-256), for params.auth: 'digest'. */
import { createHash, randomBytes } from 'node:crypto';

function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** The Authorization header answering `challenge` (a WWW-Authenticate: Digest ...) for `userinfo` ("user:password"). */
export function digestAuthorization(challenge: string, userinfo: string, method: string, uri: string): string {
  const c = parseChallenge(challenge);
  const colon = userinfo.indexOf(':');
  const user = userinfo.slice(0, colon);
  const password = userinfo.slice(colon + 1);
  const algorithm = (c.algorithm ?? 'MD5').toUpperCase();
  const hashName = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(hashName).update(s).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  let ha1 = h(`${user}:${c.realm ?? ''}:${password}`);
  if (algorithm.endsWith('-SESS')) ha1 = h(`${ha1}:${c.nonce ?? ''}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const qop = (c.qop ?? '').split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
  const response = qop ? h(`${ha1}:${c.nonce ?? ''}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${c.nonce ?? ''}:${ha2}`);
  const parts = [`username="${user}"`, `realm="${c.realm ?? ''}"`, `nonce="${c.nonce ?? ''}"`, `uri="${uri}"`, `algorithm=${c.algorithm ?? 'MD5'}`, `response="${response}"`];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (c.opaque !== undefined) parts.push(`opaque="${c.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}
