/**
 * Capacity planning for session memory: from what a long-session run measured (state bytes per
 * session, Redis used_memory per session) to memory for N live sessions and sessions per GiB.
 *
 * Live sessions are given directly (--sessions) or derived from an arrival rate and the TTL:
 * a session's key lives TTL seconds after its last write, so at steady state
 * live ≈ new sessions per hour × TTL / 3600. That TTL is the one sessions live with in
 * production: given (--ttl-seconds) or declared by the backend, never the scenario's test TTL.
 *
 * Why used_memory dwarfs the payload: the payload is the state string alone, while Redis also
 * holds the turn-id index (one sorted-set entry per applied turn, kept for idempotency) and its
 * own per-key overhead. The key-kind breakdown (MEMORY USAGE, sampled at the end of the run)
 * splits used_memory into state, turn-id index, other keys and what no key accounts for.
 */
import { fmtBytes } from './format.ts';
import type { Capacity, CapacityProjection } from './result-schema.ts';

export type KeyMemory = NonNullable<Capacity['measured']['keyMemory']>;
export type Shards = NonNullable<Capacity['measured']['shards']>;

/** The shard holding the most sessions and its share of them; null on one Redis. */
export function hottestShard(c: Capacity): { node: string; slots: number; share: number; shards: number } | null {
  const shards = c.measured.shards;
  const total = shards?.reduce((a, s) => a + s.sessions, 0) ?? 0;
  if (!shards || shards.length < 2 || total === 0) return null;
  const hot = [...shards].sort((a, b) => b.sessions - a.sessions)[0]!;
  return { node: hot.node, slots: hot.slots, share: hot.sessions / total, shards: shards.length };
}

export const GIB = 1024 ** 3;
export const DEFAULT_PROJECTION_SESSIONS = [1_000, 10_000, 100_000, 1_000_000];

export interface MeasuredCapacityInput {
  /** Stored state bytes of each session at the end of the run (one sample per session). */
  bytesPerSession: readonly number[];
  usedMemoryBaselineBytes?: number | null;
  usedMemoryEndBytes?: number | null;
  /** MEMORY USAGE by key kind at the end of the run (store-snapshot.ts). */
  keyMemory?: KeyMemory | null;
  /** A cluster: what each primary held at the end of the run. */
  shards?: Shards | null;
  settings: { windowTurns: number | null; ttlSeconds: number | null; maxStateBytes?: number | null; declaredTtlSeconds?: number | null };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** The `measured` part of a result's capacity, from per-session samples and used_memory before/after. */
export function measureCapacity(input: MeasuredCapacityInput): Capacity {
  const sorted = [...input.bytesPerSession].sort((a, b) => a - b);
  const n = sorted.length;
  const base = input.usedMemoryBaselineBytes ?? null;
  const end = input.usedMemoryEndBytes ?? null;
  return {
    measured: {
      sessions: n,
      bytesPerSession: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[n - 1] ?? 0 },
      usedMemoryPerSessionBytes: base !== null && end !== null && n > 0 ? Math.max(0, (end - base) / n) : null,
      usedMemoryBaselineBytes: base,
      usedMemoryEndBytes: end,
      keyMemory: input.keyMemory ?? null,
      ...(input.shards ? { shards: [...input.shards] } : {}),
    },
    settings: {
      windowTurns: input.settings.windowTurns,
      ttlSeconds: input.settings.ttlSeconds,
      maxStateBytes: input.settings.maxStateBytes ?? null,
      declaredTtlSeconds: input.settings.declaredTtlSeconds ?? null,
    },
    projections: [],
    bytesByTurn: [],
    assumptions: [],
  };
}

export interface ProjectionOptions {
  /** Live session counts to project to. */
  sessions?: readonly number[];
  /** With a TTL: live sessions = sessionsPerHour × ttlSeconds / 3600. */
  sessionsPerHour?: number;
  windowTurns?: number;
  /** The production TTL; without it, sessionsPerHour needs the backend's declared TTL. */
  ttlSeconds?: number;
}

/** The TTL a sessions-per-hour projection uses and where it came from; null if there is none to use. */
export function projectionTtl(c: Capacity, ttlSeconds?: number): { seconds: number; source: string } | null {
  if (ttlSeconds !== undefined) return { seconds: ttlSeconds, source: '--ttl-seconds' };
  const declared = c.settings.declaredTtlSeconds ?? null;
  return declared !== null ? { seconds: declared, source: "the backend's declared TTL" } : null;
}

/** Fill projections, sessions per GiB and the assumptions behind them. Pure: returns a new value. */
export function projectCapacity(c: Capacity, opts: ProjectionOptions = {}): Capacity {
  const assumptions: string[] = [];
  const runWindow = c.settings.windowTurns;
  const window = opts.windowTurns ?? runWindow;
  const ttl = projectionTtl(c, opts.ttlSeconds);
  let scale = 1;
  if (opts.windowTurns !== undefined && runWindow !== null && opts.windowTurns !== runWindow) {
    scale = opts.windowTurns / runWindow;
    assumptions.push(
      `Per-session bytes scaled by ${opts.windowTurns}/${runWindow} (projected/measured window): state is assumed to be dominated by the retained turns. ` +
        `Envelope and summary overhead are scaled too although they do not depend on the window, so a larger window overestimates and a smaller one underestimates; re-run with the new window to measure it.`,
    );
  } else if (opts.windowTurns !== undefined && runWindow === null) {
    assumptions.push('The run did not record its window setting, so bytes are not rescaled for --window-turns.');
  }
  let sessions = opts.sessions?.length ? [...opts.sessions] : [];
  const perHour = opts.sessionsPerHour ?? null;
  if (perHour !== null) {
    // The run's own TTL is the scenario's test setting (seconds, to see expiry happen): projecting
    // production traffic with it would be silently wrong by orders of magnitude.
    if (ttl === null) throw new RangeError('sessionsPerHour needs the production TTL (ttlSeconds) or a TTL the backend declares');
    const live = Math.max(1, Math.round((perHour * ttl.seconds) / 3600));
    sessions.push(live);
    assumptions.push(`${perHour} new sessions per hour × TTL ${ttl.seconds} s (${ttl.source}) ÷ 3600 = ${live} live sessions at steady state (each key lives a TTL after its last write).`);
  }
  if (sessions.length === 0) sessions = [...DEFAULT_PROJECTION_SESSIONS];
  sessions = [...new Set(sessions.map((s) => Math.max(1, Math.round(s))))].sort((a, b) => a - b);
  const m = c.measured;
  const usedPer = m.usedMemoryPerSessionBytes === null ? null : m.usedMemoryPerSessionBytes * scale;
  if (usedPer === null) assumptions.push('Redis used_memory was not sampled in this run: only payload bytes are projected (Redis adds the turn-id index, key, TTL and allocator overhead).');
  else assumptions.push(provisionAdvice(c, scale));
  if (m.sessions < 30) assumptions.push(`Only ${m.sessions} sessions were measured: p99 and max are rough.`);
  const hot = hottestShard(c);
  if (hot) {
    assumptions.push(
      `A cluster of ${hot.shards} shards: sessions spread by their per-session hash tag, and the hottest shard (primary ${hot.node}, ${hot.slots} slots) held ${Math.round(hot.share * 100)} % of them. ` +
        `Provision every shard's primary (and its replica) for that share of the total, not for an even ${Math.round(100 / hot.shards)} %: memory per shard is the total × ${hot.share.toFixed(2)}.`,
    );
  }
  const projections: CapacityProjection[] = sessions.map((n) => ({
    sessions: n,
    payloadP50Bytes: m.bytesPerSession.p50 * scale * n,
    payloadP99Bytes: m.bytesPerSession.p99 * scale * n,
    payloadMaxBytes: m.bytesPerSession.max * scale * n,
    redisBytes: usedPer === null ? null : usedPer * n,
    ...(hot ? { hottestShardBytes: (usedPer ?? m.bytesPerSession.p99 * scale) * n * hot.share } : {}),
  }));
  return {
    ...c,
    projectedSettings: { windowTurns: window, ttlSeconds: ttl?.seconds ?? null, sessionsPerHour: perHour },
    projections,
    sessionsPerGiB: {
      byPayloadP99: m.bytesPerSession.p99 > 0 ? Math.floor(GIB / (m.bytesPerSession.p99 * scale)) : null,
      byRedisUsedMemory: usedPer !== null && usedPer > 0 ? Math.floor(GIB / usedPer) : null,
    },
    assumptions,
  };
}

export interface MemoryShare {
  kind: string;
  /** Keys of this kind (null for the remainder no key accounts for). */
  keys: number | null;
  perSessionBytes: number;
  /** Of Redis used_memory growth per session; null when used_memory was not measured. */
  share: number | null;
}

/**
 * used_memory per session split by key kind, plus the remainder no key accounts for (Redis's
 * dictionaries and expire table, allocator rounding, buffers). Null without MEMORY USAGE samples.
 */
export function memoryBreakdown(c: Capacity): MemoryShare[] | null {
  const m = c.measured;
  if (!m.keyMemory || m.keyMemory.length === 0 || m.sessions === 0) return null;
  const used = m.usedMemoryPerSessionBytes;
  const rows: MemoryShare[] = m.keyMemory.map((k) => {
    const per = k.bytes / m.sessions;
    return { kind: k.kind, keys: k.keys, perSessionBytes: per, share: used ? per / used : null };
  });
  if (used !== null) {
    const rest = Math.max(0, used - rows.reduce((a, r) => a + r.perSessionBytes, 0));
    rows.push({ kind: 'not in any key (Redis overhead)', keys: null, perSessionBytes: rest, share: used ? rest / used : null });
  }
  return rows;
}

/** Above this share of used_memory in no key, the per-session figure is said to be inflated by fixed costs. */
const UNEXPLAINED_SHARE = 0.25;

/** Which figure to provision by, and why it is not the payload. */
export function provisionAdvice(c: Capacity, scale = 1): string {
  const m = c.measured;
  const used = m.usedMemoryPerSessionBytes;
  if (used === null) return 'Provision by payload × the overhead you measure on your own store: this run did not sample used_memory.';
  const ratio = m.bytesPerSession.p99 > 0 ? used / m.bytesPerSession.p99 : null;
  const parts = memoryBreakdown(c);
  const index = parts?.find((p) => p.kind === 'turn-id index');
  const why = index && index.share !== null
    ? ` The turn-id index alone is ${Math.round(index.share * 100)} % of it: one entry per turn ever applied (kept so a replayed turn id is never applied twice), so it grows with turns, not with the window.`
    : '';
  // used_memory growth that no key holds is partly per key (dict and expire entries, allocator
  // rounding) and partly fixed (client buffers, the Lua script cache, the replication backlog):
  // over few sessions the fixed part inflates the per-session figure.
  const rest = parts?.find((p) => p.keys === null);
  const keySum = parts ? parts.filter((p) => p.keys !== null).reduce((a, p) => a + p.perSessionBytes, 0) : null;
  const fixed =
    rest && rest.share !== null && rest.share > UNEXPLAINED_SHARE && keySum !== null
      ? ` ${Math.round(rest.share * 100)} % of the used_memory growth is in no key: Redis's per-key tables grow with sessions, but fixed costs (client buffers, scripts, replication backlog) do not, and over ${m.sessions} sessions they weigh on each; the true cost per session lies between the keys' ${fmtBytes(keySum * scale)} and ${fmtBytes(used * scale)}. Measure more sessions (--profile full) to narrow it.`
      : '';
  return (
    `Provision by Redis used_memory per session (${fmtBytes(used * scale)}), not by payload: used_memory is what the store holds` +
    `${ratio !== null ? `, ${ratio.toFixed(1)}× the payload p99` : ''}.${why}${fixed} ` +
    'Add headroom for replicas, AOF rewrite buffers and fragmentation (used_memory_rss).'
  );
}
