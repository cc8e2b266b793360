/**
 * The backend contract as scenarios see it: where the target is, how to authenticate, and the
 * paths of the /v1 API. Every scenario takes its target from __ENV so the same bundle runs under
 * the built-in engine, real k6 and k6-operator. The paths themselves are the contract's (src/contract/wire.ts).
 */
import { sessionPath, turnsPath } from '../../src/contract/wire.ts';

export const BASE_URL: string = (__ENV.STATEPROOF_TARGET || 'http://127.0.0.1:8080').replace(/\/+$/, '');
/**
 * STATEPROOF_TENANTS: `name=token,name=token` (the harness sets it from the topology or the
 * backend profile). With two or more, every operation records its tenant's name, so the history,
 * the audit trail and the store snapshot name sessions the same way.
 */
export const TENANTS: Array<{ name: string; token: string }> = (__ENV.STATEPROOF_TENANTS || '')
  .split(',')
  .map((pair) => pair.trim())
  .filter(Boolean)
  .map((pair) => {
    const eq = pair.indexOf('=');
    return eq > 0 ? { name: pair.slice(0, eq), token: pair.slice(eq + 1) } : { name: pair, token: pair };
  });
export const TOKEN: string = __ENV.STATEPROOF_TOKEN || TENANTS[0]?.token || 'tenant-a-token';
/** The first tenant's name as the history records it: only when the run has two tenants or more. */
export const OWN_TENANT: string | undefined = TENANTS.length >= 2 ? (TENANTS.find((t) => t.token === TOKEN)?.name ?? TENANTS[0]!.name) : undefined;

export function authHeaders(token: string = TOKEN): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

export function sessionUrl(sessionId: string): string {
  return `${BASE_URL}${sessionPath(sessionId)}`;
}

export function turnsUrl(sessionId: string): string {
  return `${BASE_URL}${turnsPath(sessionId)}`;
}
