/**
 * The audit trail (safeguard 5) as the contract fixes it: one JSON line per request that touched a
 * session, written before the answer is sent. The reference service writes it (pino); the checkers
 * reconcile it with the client's history (src/check/reconcile.ts). No imports beyond the contract.
 */
import type { Op } from './wire.ts';

export const AUDIT_RESULTS = [
  'applied',
  'replayed',
  'conflict',
  'too_large',
  'unsupported_schema',
  'degraded',
  'unavailable',
  'not_found',
  'ok',
  'error',
] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** What a service hands its audit log for one request. */
export interface AuditEntry {
  tenant: string;
  session: string;
  op: Op;
  result: AuditResult;
  status: number;
  turnId?: string;
  revision?: number;
  turnCount?: number;
  schemaVersion?: number;
}

/** The `msg` of every audit line, which tells it apart from the service's other log lines. */
export const AUDIT_MSG = 'audit';

/** One line as written and read back: the entry, plus the instance and the time (epoch ms) of the log. */
export interface AuditRecord extends AuditEntry {
  time: number;
  msg: typeof AUDIT_MSG;
  instance: string;
}
