/**
 * What the handlers need from a session store, whichever store it is: Redis or Valkey
 * (session-store.ts) or PostgreSQL (pg-session-store.ts). Keys are the Redis key layout
 * (keys.ts) on every store; Postgres uses the session key as its row key.
 */
import type { Tier } from '../observability/metrics.ts';
import type { CasArgs, CasOutcome, Loaded } from './session-store.ts';

export type { CasArgs, CasOutcome, Loaded };

export interface StateStore {
  readonly hasReplica: boolean;
  load(key: string, idsKey?: string, turnId?: string, tier?: Tier): Promise<Loaded>;
  /** The atomic compare-and-set append (cas on). */
  casAppend(a: CasArgs): Promise<CasOutcome>;
  /** The naive write (cas off): no revision guard, not atomic. */
  naiveSave(key: string, idsKey: string, value: string, turnId: string, revision: number, ttlSeconds: number): Promise<void>;
  /** True when the session existed. */
  remove(key: string, idsKey: string): Promise<boolean>;
  /** "ready" when the store can take commands now (for /readyz); else what it is. */
  status(): Promise<string>;
  close(): Promise<void>;
}
