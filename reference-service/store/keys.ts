/**
 * Store key layout, version 2. `{<tenant>:<sessionId>}` is a Redis Cluster hash tag per session:
 * a session and its turn-id index share a slot (so the compare-and-set script may touch both), and
 * sessions spread over every shard instead of one tenant's all landing on one.
 *
 *   sp:{<tenant>:<sessionId>}:session   string: the JSON envelope {schemaVersion, revision, data}
 *   sp:{<tenant>:<sessionId>}:turnids   sorted set: applied turnId → the revision it produced
 *
 * Layout 1 hashed `{<tenant>}` and pinned a tenant to one shard:
 *
 *   sp:{<tenant>}:session:<sessionId>   sp:{<tenant>}:turnids:<sessionId>
 *
 * Layout 1 stays readable: a load that finds no layout-2 key looks for the layout-1 pair and moves
 * it over (store.adoptLegacy: copy only if the new key is still absent, then delete the old pair), so
 * a store written by an older service keeps its sessions, and every session moves on first touch.
 * A delete removes both layouts. What it does not cover: an older instance still writing layout 1
 * after a newer one moved the session (roll every instance forward before relying on it).
 *
 * Both keys carry the same TTL while bounds are on. Ids are validated before they get here
 * (http/input.ts: no ':', '{', '}', glob, CRLF or NUL), so a key parses back unambiguously.
 */
export const KEY_LAYOUT_VERSION = 2;

export function sessionKey(tenant: string, sessionId: string): string {
  return `sp:{${tenant}:${sessionId}}:session`;
}

export function turnIdsKey(tenant: string, sessionId: string): string {
  return `sp:{${tenant}:${sessionId}}:turnids`;
}

/** Layout 1's pair, read only to move a session written by an older service. */
export function legacyKeys(tenant: string, sessionId: string): { key: string; idsKey: string } {
  return { key: `sp:{${tenant}}:session:${sessionId}`, idsKey: `sp:{${tenant}}:turnids:${sessionId}` };
}

const SESSION_KEY = /^sp:\{([A-Za-z0-9_-]+):([^}]+)\}:session$/;
const LEGACY_SESSION_KEY = /^sp:\{([A-Za-z0-9_-]+)\}:session:(.+)$/s;

/** Tenant and session of a session key in either layout; undefined for any other key. */
export function parseSessionKey(key: string): { tenant: string; session: string; layout: 1 | 2 } | undefined {
  const m = SESSION_KEY.exec(key);
  if (m) return { tenant: m[1]!, session: m[2]!, layout: 2 };
  const l = LEGACY_SESSION_KEY.exec(key);
  if (l) return { tenant: l[1]!, session: l[2]!, layout: 1 };
  return undefined;
}

/** What a key holds, in either layout. */
export function keyKind(key: string): 'state' | 'turn-id index' | 'other' {
  if (/^sp:\{[^}]*\}:session(:|$)/s.test(key)) return 'state';
  if (/^sp:\{[^}]*\}:turnids(:|$)/s.test(key)) return 'turn-id index';
  return 'other';
}
