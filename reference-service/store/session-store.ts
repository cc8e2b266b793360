/**
 * Session storage on Redis (ioredis). Every call goes through the store guard (timeout budget +
 * breaker, or bare) and is timed into stateproof_state_op_duration_seconds.
 *
 *   load      GET session + ZSCORE turn id   (auto-pipelined: one round trip)
 *   casAppend EVALSHA of cas-script.ts        (one round trip, atomic)
 *   naiveSave SET then ZADD                   (cas off: no compare, not atomic)
 *   remove    DEL session + turn ids
 *   adoptLegacy  GET + ZRANGE + PTTL of the layout-1 pair, the copy script on the new pair, DEL old
 *
 * `primary` is one Redis or a Redis Cluster client (ioredis Cluster follows MOVED and ASK): every
 * command names keys of one slot, so either works unchanged.
 */
import type { Cluster, Redis } from 'ioredis';
import type { StoreGuard } from '../safeguards/breaker.ts';
import type { Metrics, Tier } from '../observability/metrics.ts';
import { ADOPT_LEGACY_LUA, CAS_APPEND_LUA, CAS_STATUS } from './cas-script.ts';
import type { CasArgs, CasOutcome, Loaded, SessionKeys, StateStore } from './state-store.ts';

export type { CasArgs, CasOutcome, Loaded } from './state-store.ts';

export type StoreClient = Redis | Cluster;
type AdoptCommand = (k1: string, k2: string, ...args: Array<string | number>) => Promise<number>;
type CasCommand = (k1: string, k2: string, ...args: Array<string | number>) => Promise<[number, number, number]>;

export class SessionStore implements StateStore {
  private readonly cas: CasCommand;
  private readonly adopt: AdoptCommand;

  constructor(
    private readonly primary: StoreClient,
    private readonly replica: StoreClient | undefined,
    private readonly guard: StoreGuard,
    private readonly metrics: Metrics,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    primary.defineCommand('spCasAppend', { numberOfKeys: 2, lua: CAS_APPEND_LUA });
    this.cas = (primary as unknown as { spCasAppend: CasCommand }).spCasAppend.bind(primary);
    primary.defineCommand('spAdoptLegacy', { numberOfKeys: 2, lua: ADOPT_LEGACY_LUA });
    this.adopt = (primary as unknown as { spAdoptLegacy: AdoptCommand }).spAdoptLegacy.bind(primary);
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
  async remove(key: string, idsKey: string, legacy?: SessionKeys): Promise<boolean> {
    const t0 = performance.now();
    // Two DELs: on a cluster the layout-1 pair lives in another slot.
    const n = await this.guard.run(async () => (await Promise.all([this.primary.del(key, idsKey), legacy ? this.primary.del(legacy.key, legacy.idsKey) : 0])).reduce((a, b) => a + b, 0));
    this.metrics.opDuration('delete', 'redis', (performance.now() - t0) / 1000);
    return n > 0;
  }

  async adoptLegacy(from: SessionKeys, to: SessionKeys): Promise<boolean> {
    const t0 = performance.now();
    const moved = await this.guard.run(async () => {
      const [raw, ids, pttl] = await Promise.all([this.primary.get(from.key), this.primary.zrange(from.idsKey, 0, -1, 'WITHSCORES'), this.primary.pttl(from.key)]);
      if (raw === null) return false;
      const flat: string[] = [];
      // WITHSCORES answers member, score; ZADD takes score, member.
      for (let i = 0; i + 1 < ids.length; i += 2) flat.push(ids[i + 1]!, ids[i]!);
      await this.adopt(to.key, to.idsKey, raw, pttl > 0 ? pttl : 0, ...flat);
      await this.primary.del(from.key, from.idsKey);
      return true;
    });
    // Timed only when it moved a session: a miss is the common case, and load already counted it.
    if (moved) this.metrics.opDuration('load', 'redis', (performance.now() - t0) / 1000);
    return moved;
  }

  async status(): Promise<string> {
    return this.primary.status;
  }

  async close(): Promise<void> {
    this.primary.disconnect();
    this.replica?.disconnect();
  }
}
