/**
 * Safeguard 5, audit trail: one pino JSON line per request that touches a session, written
 * synchronously so a record exists before its response is sent (a kill -9 cannot lose an answered
 * request's record). Fields are the ones INTERFACES.md §1 fixes for the checkers.
 */
import pino from 'pino';

export type AuditOp = 'append' | 'read' | 'delete';
export type AuditResult =
  | 'applied'
  | 'replayed'
  | 'conflict'
  | 'too_large'
  | 'unsupported_schema'
  | 'degraded'
  | 'unavailable'
  | 'not_found'
  | 'ok'
  | 'error';

export interface AuditRecord {
  tenant: string;
  session: string;
  op: AuditOp;
  result: AuditResult;
  status: number;
  turnId?: string;
  revision?: number;
  turnCount?: number;
  schemaVersion?: number;
}

export interface AuditLog {
  readonly enabled: boolean;
  record(r: AuditRecord): void;
  close(): Promise<void>;
}

/** `dest`: a file path, "-" for stdout, undefined for none. */
export function createAuditLog(dest: string | undefined, instance: string): AuditLog {
  if (dest === undefined) return { enabled: false, record: () => {}, close: async () => {} };
  const stream = pino.destination({ dest: dest === '-' ? 1 : dest, sync: true, mkdir: dest !== '-' });
  const logger = pino({ base: { instance }, timestamp: pino.stdTimeFunctions.epochTime }, stream);
  return {
    enabled: true,
    record: (r) => logger.info(r, 'audit'),
    async close() {
      if (dest === '-') return;
      stream.flushSync();
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      });
    },
  };
}
