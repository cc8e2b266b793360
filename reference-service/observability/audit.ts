/**
 * Safeguard 5, audit trail: one pino JSON line per request that touches a session, written
 * synchronously so a record exists before its response is sent (a kill -9 cannot lose an answered
 * request's record). The fields are the contract's (src/contract/audit.ts), which the checkers read.
 */
import pino from 'pino';
import { AUDIT_MSG, type AuditEntry } from '../../src/contract/audit.ts';

export interface AuditLog {
  readonly enabled: boolean;
  record(r: AuditEntry): void;
  close(): Promise<void>;
}

/** `dest`: a file path, "-" for stdout, undefined for none. */
export function createAuditLog(dest: string | undefined, instance: string): AuditLog {
  if (dest === undefined) return { enabled: false, record: () => {}, close: async () => {} };
  const stream = pino.destination({ dest: dest === '-' ? 1 : dest, sync: true, mkdir: dest !== '-' });
  const logger = pino({ base: { instance }, timestamp: pino.stdTimeFunctions.epochTime }, stream);
  return {
    enabled: true,
    record: (r) => logger.info(r, AUDIT_MSG),
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
