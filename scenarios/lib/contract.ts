/**
 * The backend contract as scenarios see it: where the target is, how to authenticate, and the
 * paths of the /v1 API. Every scenario takes its target from __ENV so the same bundle runs under
 * the built-in engine, real k6 and k6-operator. The paths themselves are the contract's (src/contract/wire.ts).
 */
import { sessionPath, turnsPath } from '../../src/contract/wire.ts';

export const BASE_URL: string = (__ENV.STATEPROOF_TARGET || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const TOKEN: string = __ENV.STATEPROOF_TOKEN || 'tenant-a-token';

export function authHeaders(token: string = TOKEN): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

export function sessionUrl(sessionId: string): string {
  return `${BASE_URL}${sessionPath(sessionId)}`;
}

export function turnsUrl(sessionId: string): string {
  return `${BASE_URL}${turnsPath(sessionId)}`;
}
