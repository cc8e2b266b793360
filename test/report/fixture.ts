/**
 * Synthetic runs for report tests: a seeded history shaped like a store-outage scenario (two
 * instances, a Redis outage and a latency fault), turned into a RunResult by the same derive/
 * helpers the run orchestration uses. No engine needed; histograms are real HDR histograms.
 */
import type { HistoryEntry } from '../../src/record/history.ts';
import { createResult, verdictOf } from '../../src/report/build.ts';
import { faultImpacts } from '../../src/report/derive/fault-impact.ts';
import { latencyFromHistory, metricsFromHistory } from '../../src/report/derive/from-history.ts';
import type { Invariant, RunResult, TimelineEntry } from '../../src/report/result-schema.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureOptions {
  seed?: number;
  /** Extra latency on every operation, e.g. a slower backend (ms). */
  extraLatencyMs?: number;
  durationSec?: number;
  ratePerSec?: number;
  withFaults?: boolean;
  failing?: boolean;
  runId?: string;
}

export const T0 = Date.UTC(2025, 0, 15, 9, 30, 0);

export function makeHistory(opts: FixtureOptions = {}): { history: HistoryEntry[]; timeline: TimelineEntry[]; endMs: number } {
  const rand = rng(opts.seed ?? 1);
  const durationSec = opts.durationSec ?? 60;
  const rate = opts.ratePerSec ?? 40;
  const extra = opts.extraLatencyMs ?? 0;
  const withFaults = opts.withFaults ?? true;
  const timeline: TimelineEntry[] = withFaults
    ? [
        { id: 'redis-down', target: 'redis', fault: { type: 'down' }, plannedStartMs: T0 + 15_000, plannedEndMs: T0 + 25_000, actualStartMs: T0 + 15_012, actualEndMs: T0 + 25_009, verified: true },
        { id: 'redis-slow', target: 'redis', fault: { type: 'latency', attributes: { latency: 80, jitter: 20 } }, plannedStartMs: T0 + 38_000, plannedEndMs: T0 + 46_000, actualStartMs: T0 + 38_004, actualEndMs: T0 + 46_006, verified: true },
      ]
    : [];
  const history: HistoryEntry[] = [];
  const n = durationSec * rate;
  let id = 0;
  const revisions = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const intended = T0 + (i * 1000) / rate;
    const tSec = (intended - T0) / 1000;
    const down = withFaults && tSec >= 15 && tSec < 25;
    const slow = withFaults && tSec >= 38 && tSec < 46;
    const settling = withFaults && tSec >= 25 && tSec < 27;
    const session = `s${Math.floor(rand() * 40)}`;
    const instance = Number(session.slice(1)) % 2 === 0 ? 'i1' : 'i2';
    const op: HistoryEntry['op'] = rand() < 0.6 ? 'append' : 'read';
    // Log-normal-ish service time around 4 ms with a long tail.
    let serviceMs = 2 + Math.exp(1 + 0.6 * gauss(rand)) + extra;
    if (slow) serviceMs += 80 + rand() * 20;
    if (down) serviceMs += 100 + rand() * 5; // the store timeout budget
    if (settling) serviceMs += 15 * rand();
    const queueMs = down && rand() < 0.3 ? rand() * 40 : 0;
    const start = intended + queueMs;
    const end = start + serviceMs;
    let outcome: HistoryEntry['outcome'] = 'ok';
    let status = 200;
    let mode: HistoryEntry['mode'] = 'normal';
    if (down) {
      if (op === 'append') {
        outcome = rand() < 0.9 ? 'fail' : 'unknown';
        status = outcome === 'fail' ? 503 : 0;
      } else mode = 'degraded';
    }
    const rev = (revisions.get(session) ?? 0) + (op === 'append' && outcome === 'ok' ? 1 : 0);
    revisions.set(session, rev);
    history.push({
      id: id++,
      vu: 1 + (i % 8),
      op,
      session,
      tenant: 'tenant-a',
      ...(op === 'append' ? { turnId: `t-${i}` } : {}),
      intendedStartMs: intended,
      startMs: start,
      endMs: end,
      outcome,
      status,
      ...(status === 503 ? { code: 'store_unavailable' } : {}),
      ...(outcome === 'ok' ? { revision: rev, turnCount: rev } : {}),
      mode,
      instance,
    });
  }
  return { history, timeline, endMs: T0 + durationSec * 1000 };
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function makeResult(opts: FixtureOptions = {}): { result: RunResult; history: HistoryEntry[] } {
  const { history, timeline, endMs } = makeHistory(opts);
  const metrics = metricsFromHistory(history, { startedAtMs: T0, endedAtMs: endMs });
  const invariants: Invariant[] = [
    { name: 'no-lost-writes', holds: true, description: 'Every acknowledged turn is later read back or counted.', anomalies: [] },
    { name: 'no-duplicates', holds: true, description: 'No turn id is applied twice.', anomalies: [] },
    { name: 'read-your-writes', holds: true, description: 'A session reads its own acknowledged writes (strong mode).', anomalies: [] },
    { name: 'flagged-degradation', holds: true, description: 'Degraded answers say so; no 5xx where degradation was due.', anomalies: [] },
  ];
  if (opts.failing) {
    const w = history.find((e) => e.op === 'append' && e.outcome === 'ok' && e.session === 's3')!;
    const r = history.find((e) => e.op === 'read' && e.session === 's3' && e.intendedStartMs > w.endMs)!;
    invariants[0] = {
      ...invariants[0]!,
      holds: false,
      anomalies: [{ type: 'lost-write', session: 'tenant-a/s3', message: `turn ${w.turnId} acknowledged at revision ${w.revision} is missing from a later read <window>`, ops: [w.id, r.id] }],
    };
  }
  const provingIds = new Set(invariants.flatMap((i) => i.anomalies.flatMap((a) => a.ops)));
  const thresholds = [
    { metric: 'http_req_failed', expression: 'rate<0.25', ok: true, observed: metrics.errorRate.toFixed(4) },
    { metric: 'http_req_duration', expression: 'p(99)<500', ok: true, observed: '≈110 ms' },
  ];
  const base = {
    runId: opts.runId ?? `store-outage-${opts.seed ?? 1}`,
    scenario: { name: 'store-outage', profile: 'ci', engine: 'built-in', backend: 'reference', description: 'Redis goes away for 10 s, then slows down; the service must degrade, flag it, and lose nothing.' },
    startedAtMs: T0,
    endedAtMs: endMs,
    config: { target: 'redis://default:hunter2@127.0.0.1:6379/0', tokens: { 'tenant-a-token': 'tenant-a' }, vus: 8, rate: opts.ratePerSec ?? 40, headers: { Authorization: 'Bearer abc.def' } },
    topology: {
      provider: 'local',
      description: '2 instances behind a sticky router; redis with a fault proxy',
      instances: [
        { id: 'i1', url: 'http://127.0.0.1:40001', schemaVersion: 3 },
        { id: 'i2', url: 'http://127.0.0.1:40002', schemaVersion: 3 },
      ],
      router: 'sticky by session',
      proxies: ['redis'],
    },
    faultPlan: { seed: 7, faults: timeline.map((t) => ({ id: t.id, at: `${(t.plannedStartMs - T0) / 1000}s`, duration: `${(t.plannedEndMs - t.plannedStartMs) / 1000}s`, target: t.target, fault: t.fault })) },
    timeline,
    metrics,
    latency: { unit: 'us' as const, histograms: latencyFromHistory(history, timeline) },
    invariants,
    provingOps: history.filter((e) => provingIds.has(e.id)),
    faults: faultImpacts(history, timeline, metrics, T0),
    stateHealth: {
      sizeBytes: { buckets: [{ le: 512, count: 120 }, { le: 1024, count: 540 }, { le: 2048, count: 1210 }, { le: 4096, count: 1390 }, { le: 8192, count: 1402 }, { le: Infinity, count: 1402 }], sum: 2_150_000, count: 1402 },
      conflicts: 3,
      degradedResponses: metrics.totals.degraded,
      cache: [{ tier: 'local', hit: 820, miss: 140 }],
      breaker: [
        { offsetMs: 0, instance: 'i1', state: 0 as const },
        { offsetMs: 0, instance: 'i2', state: 0 as const },
        { offsetMs: 15_400, instance: 'i1', state: 1 as const },
        { offsetMs: 15_600, instance: 'i2', state: 1 as const },
        { offsetMs: 20_400, instance: 'i1', state: 2 as const },
        { offsetMs: 20_600, instance: 'i1', state: 1 as const },
        { offsetMs: 25_500, instance: 'i1', state: 2 as const },
        { offsetMs: 25_700, instance: 'i2', state: 2 as const },
        { offsetMs: 26_000, instance: 'i1', state: 0 as const },
        { offsetMs: 26_200, instance: 'i2', state: 0 as const },
      ],
      lifecycle: { create: 40, degrade: 2, expire: 0, migrate: 0, reject: 0 },
    },
    capacity: {
      measured: { sessions: 40, bytesPerSession: { p50: 1840, p99: 4020, max: 5100 }, usedMemoryPerSessionBytes: 2630, usedMemoryBaselineBytes: 1_000_000, usedMemoryEndBytes: 1_105_200 },
      settings: { windowTurns: 10, ttlSeconds: 86400, maxStateBytes: 51200 },
    },
    thresholds,
    environment: { node: 'v20.18.0', redis: '7.0.15', k6: null, os: 'Linux 6.1.0', arch: 'x64', cpus: 2, cpuModel: 'Test CPU', memoryBytes: 8 * 1024 ** 3, gitCommit: '0123456789abcdef0123456789abcdef01234567' },
    historyEntries: history.length,
  };
  const result = createResult({ ...base, verdict: verdictOf({ invariants, thresholds }) });
  return { result, history };
}
