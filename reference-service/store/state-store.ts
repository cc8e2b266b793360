/**
 * What the handlers need from a session store, whichever store it is: Redis or Valkey
 * (session-store.ts) or PostgreSQL (pg-session-store.ts). Keys are the Redis key layout
 * (keys.ts) on every store; Postgres uses the session key as its row key.
 */
import type { Tier } from '../observability/metrics.ts';

export interface Loaded {
  raw: string | null;
  /** Revision at which this turnId was applied, when it was. */
  appliedRevision: number | null;
}

export type CasOutcome =
  | { status: 'applied'; revision: number }
  | { status: 'replayed'; revision: number }
  | { status: 'conflict'; revision: number }
  | { status: 'unsupported'; schemaVersion: number }
  | { status: 'corrupt' }
  | { status: 'expired' };

export interface CasArgs {
  key: string;
  idsKey: string;
  expectedRevision: number;
  value: string;
  turnId: string;
  ttlSeconds: number;
  maxSchemaVersion: number;
  keepTurnIds: number;
  deadlineMs: number;
}


export interface SessionKeys {
  key: string;
  idsKey: string;
}

export interface StateStore {
  readonly hasReplica: boolean;
  load(key: string, idsKey?: string, turnId?: string, tier?: Tier): Promise<Loaded>;
  /** The atomic compare-and-set append (cas on). */
  casAppend(a: CasArgs): Promise<CasOutcome>;
  /** The naive write (cas off): no revision guard, not atomic. */
  naiveSave(key: string, idsKey: string, value: string, turnId: string, revision: number, ttlSeconds: number): Promise<void>;
  /** True when the session existed. `legacy`: its layout-1 pair (keys.ts), removed with it. */
  remove(key: string, idsKey: string, legacy?: SessionKeys): Promise<boolean>;
  /**
   * Moves a session from key layout 1 to layout 2 (keys.ts): copied only while `to` is absent, then
   * the old pair deleted. True when a layout-2 session exists afterwards (moved by this call or another).
   */
  adoptLegacy(from: SessionKeys, to: SessionKeys): Promise<boolean>;
  /** "ready" when the store can take commands now (for /readyz); else what it is. */
  status(): Promise<string>;
  close(): Promise<void>;
}
