/**
 * Store key layout. `{<tenant>}` is a Redis Cluster hash tag: a tenant's session and its turn-id
 * index live in one slot, so the compare-and-set script may touch both.
 *
 *   sp:{<tenant>}:session:<sessionId>   string: the JSON envelope {schemaVersion, revision, data}
 *   sp:{<tenant>}:turnids:<sessionId>   sorted set: applied turnId → the revision it produced
 *
 * Both carry the same TTL while bounds are on. Ids are validated before they get here
 * (http/ids.ts), so no glob, CRLF, NUL or separator can reach a key.
 */
export function sessionKey(tenant: string, sessionId: string): string {
  return `sp:{${tenant}}:session:${sessionId}`;
}

export function turnIdsKey(tenant: string, sessionId: string): string {
  return `sp:{${tenant}}:turnids:${sessionId}`;
}
