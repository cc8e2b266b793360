/**
 * Capacity planning for session memory: from what a long-session run measured (state bytes per
 * session, Redis used_memory per session) to memory for N live sessions and sessions per GiB.
 *
 * Live sessions are given directly (--sessions) or derived from an arrival rate and the TTL:
 * a session's key lives TTL seconds after its last write, so at steady state
 * live ≈ new sessions per hour × TTL / 3600.
 */
import type { Capacity, CapacityProjection } from './result-schema.ts';

export const GIB = 1024 ** 3;
export const DEFAULT_PROJECTION_SESSIONS = [1_000, 10_000, 100_000, 1_000_000];

export interface MeasuredCapacityInput {
  /** Stored state bytes of each session at the end of the run (one sample per session). */
  bytesPerSession: readonly number[];
  usedMemoryBaselineBytes?: number | null;
  usedMemoryEndBytes?: number | null;
  settings: { windowTurns: number | null; ttlSeconds: number | null; maxStateBytes?: number | null };
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
    },
    settings: { windowTurns: input.settings.windowTurns, ttlSeconds: input.settings.ttlSeconds, maxStateBytes: input.settings.maxStateBytes ?? null },
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
  ttlSeconds?: number;
}

/** Fill projections, sessions per GiB and the assumptions behind them. Pure: returns a new value. */
export function projectCapacity(c: Capacity, opts: ProjectionOptions = {}): Capacity {
  const assumptions: string[] = [];
  const runWindow = c.settings.windowTurns;
  const window = opts.windowTurns ?? runWindow;
  const ttl = opts.ttlSeconds ?? c.settings.ttlSeconds;
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
    if (ttl === null) throw new RangeError('sessionsPerHour needs a TTL (ttlSeconds) to give a number of live sessions');
    const live = Math.max(1, Math.round((perHour * ttl) / 3600));
    sessions.push(live);
    assumptions.push(`${perHour} new sessions per hour × TTL ${ttl} s ÷ 3600 = ${live} live sessions at steady state (each key lives a TTL after its last write).`);
  }
  if (sessions.length === 0) sessions = [...DEFAULT_PROJECTION_SESSIONS];
  sessions = [...new Set(sessions.map((s) => Math.max(1, Math.round(s))))].sort((a, b) => a - b);
  const m = c.measured;
  const usedPer = m.usedMemoryPerSessionBytes === null ? null : m.usedMemoryPerSessionBytes * scale;
  if (usedPer === null) assumptions.push('Redis used_memory was not sampled in this run: only payload bytes are projected (Redis adds key, TTL and allocator overhead).');
  else assumptions.push('Redis used_memory per session includes keys, TTL metadata and allocator overhead as measured; replicas and AOF rewrite buffers need their own headroom.');
  if (m.sessions < 30) assumptions.push(`Only ${m.sessions} sessions were measured: p99 and max are rough.`);
  const projections: CapacityProjection[] = sessions.map((n) => ({
    sessions: n,
    payloadP50Bytes: m.bytesPerSession.p50 * scale * n,
    payloadP99Bytes: m.bytesPerSession.p99 * scale * n,
    payloadMaxBytes: m.bytesPerSession.max * scale * n,
    redisBytes: usedPer === null ? null : usedPer * n,
  }));
  return {
    ...c,
    projectedSettings: { windowTurns: window, ttlSeconds: ttl, sessionsPerHour: perHour },
    projections,
    sessionsPerGiB: {
      byPayloadP99: m.bytesPerSession.p99 > 0 ? Math.floor(GIB / (m.bytesPerSession.p99 * scale)) : null,
      byRedisUsedMemory: usedPer !== null && usedPer > 0 ? Math.floor(GIB / usedPer) : null,
    },
    assumptions,
  };
}
