/**
 * Session storage on Redis (ioredis). Every call goes through the store guard (timeout budget +
 * breaker, or bare) and is timed into stateproof_state_op_duration_seconds.
 *
 *   load      GET session + ZSCORE turn id   (auto-pipelined: one round trip)
 *   casAppend EVALSHA of cas-script.ts        (one round trip, atomic)
 *   naiveSave SET then ZADD                   (cas off: no compare, not atomic)
 *   remove    DEL session + turn ids
 */
import type { Redis } from 'ioredis';
import type { StoreGuard } from '../safeguards/breaker.ts';
import type { Metrics, Tier } from '../observability/metrics.ts';
import { CAS_APPEND_LUA, CAS_STATUS } from './cas-script.ts';
import type { CasArgs, CasOutcome, Loaded, StateStore } from './state-store.ts';

export type { CasArgs, CasOutcome, Loaded } from './state-store.ts';

type CasCommand = (k1: string, k2: string, ...args: Array<string | number>) => Promise<[number, number, number]>;

export class SessionStore implements StateStore {
  private readonly cas: CasCommand;

  constructor(
    private readonly primary: Redis,
    private readonly replica: Redis | undefined,
    private readonly guard: StoreGuard,
    private readonly metrics: Metrics,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    primary.defineCommand('spCasAppend', { numberOfKeys: 2, lua: CAS_APPEND_LUA });
    this.cas = (primary as unknown as { spCasAppend: CasCommand }).spCasAppend.bind(primary);
  }

  get hasReplica(): boolean {
    return this.replica !== undefined;
  }

  async load(key: string, idsKey?: string, turnId?: string, tier: Tier = 'redis'): Promise<Loaded> {
    const client = tier === 'replica' && this.replica ? this.replica : this.primary;
    const t0 = performance.now();
    const result = await this.guard.run(async () => {
      if (idsKey === undefined || turnId === undefined) return { raw: await client.get(key), appliedRevision: null };
      const [raw, score] = await Promise.all([client.get(key), client.zscore(idsKey, turnId)]);
      return { raw, appliedRevision: score === null ? null : Number(score) };
    });
    this.metrics.opDuration('load', tier, (performance.now() - t0) / 1000);
    return result;
  }

  async casAppend(a: CasArgs): Promise<CasOutcome> {
    const t0 = performance.now();
    const [code, revision, schemaVersion] = await this.guard.run(() =>
      this.cas(a.key, a.idsKey, a.expectedRevision, a.value, a.turnId, a.ttlSeconds, a.maxSchemaVersion, a.keepTurnIds, a.deadlineMs),
    );
    this.metrics.opDuration('save', 'redis', (performance.now() - t0) / 1000);
    switch (code) {
      case CAS_STATUS.applied:
        return { status: 'applied', revision };
      case CAS_STATUS.replayed:
        return { status: 'replayed', revision };
      case CAS_STATUS.conflict:
        return { status: 'conflict', revision };
      case CAS_STATUS.unsupported:
        return { status: 'unsupported', schemaVersion };
      case CAS_STATUS.expired:
        return { status: 'expired' };
      default:
        return { status: 'corrupt' };
    }
  }

  /** The naive write (cas off): whatever was computed from the earlier read wins. */
  async naiveSave(key: string, idsKey: string, value: string, turnId: string, revision: number, ttlSeconds: number): Promise<void> {
    const t0 = performance.now();
    await this.guard.run(async () => {
      if (ttlSeconds > 0) await this.primary.set(key, value, 'EX', ttlSeconds);
      else await this.primary.set(key, value);
      await this.primary.zadd(idsKey, revision, turnId);
      if (ttlSeconds > 0) await this.primary.expire(idsKey, ttlSeconds);
    });
    this.metrics.opDuration('save', 'redis', (performance.now() - t0) / 1000);
  }

  /** True when the session existed. */
  async remove(key: string, idsKey: string): Promise<boolean> {
    const t0 = performance.now();
    const n = await this.guard.run(() => this.primary.del(key, idsKey));
    this.metrics.opDuration('delete', 'redis', (performance.now() - t0) / 1000);
    return n > 0;
  }

  async status(): Promise<string> {
    return this.primary.status;
  }

  async close(): Promise<void> {
    this.primary.disconnect();
    this.replica?.disconnect();
  }
}
