import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { checkHistory, crossCheckMetrics, parsePrometheusText, REQUIRED_METRICS, sumSamples } from '../../src/check/index.ts';
import { HistoryBuilder } from './history-builder.ts';

/** A registry shaped like the reference service's (INTERFACES.md section 1), served by real prom-client. */
function serviceRegistry() {
  const registry = new Registry();
  const m = {
    opDuration: new Histogram({ name: 'stateproof_state_op_duration_seconds', help: 'op', labelNames: ['op', 'tier'], registers: [registry] }),
    size: new Histogram({ name: 'stateproof_state_size_bytes', help: 'size', buckets: [1024, 4096, 16384, 65536], registers: [registry] }),
    conflicts: new Counter({ name: 'stateproof_state_conflicts_total', help: 'c', registers: [registry] }),
    cache: new Counter({ name: 'stateproof_state_cache_total', help: 'c', labelNames: ['tier', 'result'], registers: [registry] }),
    lifecycle: new Counter({ name: 'stateproof_state_lifecycle_events_total', help: 'l', labelNames: ['event'], registers: [registry] }),
    breaker: new Gauge({ name: 'stateproof_breaker_state', help: 'b', registers: [registry] }),
    degraded: new Counter({ name: 'stateproof_degraded_responses_total', help: 'd', registers: [registry] }),
    http: new Counter({ name: 'stateproof_http_requests_total', help: 'h', labelNames: ['route', 'status'], registers: [registry] }),
  };
  return { registry, m };
}

function clientHistory() {
  const b = new HistoryBuilder();
  b.append({ turnId: 't1', turnCount: 1, at: 0 });
  b.append({ vu: 2, turnId: 'x', ifMatch: 0, outcome: 'fail', status: 409, code: 'revision_conflict', at: 1 });
  b.append({ vu: 2, turnId: 'y', ifMatch: 0, outcome: 'fail', status: 409, code: 'revision_conflict', at: 2 });
  b.read({ ids: ['t1'], count: 1, at: 10, mode: 'degraded', bytes: 3000 });
  return b;
}

describe('parsePrometheusText', () => {
  it('reads prom-client output: types, labels with escapes, histogram buckets', async () => {
    const { registry, m } = serviceRegistry();
    m.http.inc({ route: '/v1/sessions/:id', status: '200' }, 3);
    m.http.inc({ route: 'we"ird\\route', status: '409' });
    m.size.observe(2000);
    const f = parsePrometheusText(await registry.metrics());
    expect(f.get('stateproof_http_requests_total')!.type).toBe('counter');
    expect(sumSamples(f.get('stateproof_http_requests_total'))).toBe(4);
    expect(sumSamples(f.get('stateproof_http_requests_total'), { route: 'we"ird\\route' })).toBe(1);
    expect(sumSamples(f.get('stateproof_state_size_bytes'), { le: '4096' }, 'stateproof_state_size_bytes_bucket')).toBe(1);
    expect(sumSamples(f.get('stateproof_state_size_bytes'), {}, 'stateproof_state_size_bytes_count')).toBe(1);
    // declared families without samples still count as present
    expect(f.has('stateproof_state_lifecycle_events_total')).toBe(true);
  });
});

describe('crossCheckMetrics', () => {
  it('agrees when counter deltas match what the client saw, summed over instances', async () => {
    const i1 = serviceRegistry();
    const i2 = serviceRegistry();
    i1.m.conflicts.inc(5); // before the run
    const before1 = await i1.registry.metrics();
    i1.m.conflicts.inc(1);
    i2.m.conflicts.inc(1);
    i2.m.degraded.inc();
    i1.m.size.observe(3500);
    i1.m.lifecycle.inc({ event: 'migrate' }, 2);
    const scrapes = [
      { instance: 'i1', before: before1, after: await i1.registry.metrics() },
      { instance: 'i2', after: await i2.registry.metrics() },
    ];
    expect(crossCheckMetrics(clientHistory().entries, scrapes, { expectedMigrationsMin: 2 })).toEqual([]);
    const r = checkHistory(clientHistory().entries, { invariants: ['metrics-agree'], metrics: scrapes });
    expect(r.invariants[0]!.holds).toBe(true);
  });

  it('fails naming the missing metrics when observability is off (process defaults only)', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const found = crossCheckMetrics(clientHistory().entries, [{ instance: 'i1', after: await registry.metrics() }]);
    expect(found).toHaveLength(1);
    expect(found[0]!.type).toBe('metrics-missing');
    for (const name of REQUIRED_METRICS) expect(found[0]!.message).toContain(name);
  });

  it('flags a conflicts counter that disagrees with the 409s the client saw', async () => {
    const { registry, m } = serviceRegistry();
    m.conflicts.inc(1); // client saw 2
    m.degraded.inc();
    m.size.observe(3500);
    const found = crossCheckMetrics(clientHistory().entries, [{ instance: 'i1', after: await registry.metrics() }]);
    expect(found.map((a) => a.type)).toEqual(['metrics-conflicts-mismatch']);
  });

  it('tolerates the service counting answers the client never got, but not fewer degraded answers', async () => {
    const b = clientHistory();
    b.read({ ids: [], at: 20, status: 0, outcome: 'fail', mode: undefined });
    const { registry, m } = serviceRegistry();
    m.conflicts.inc(2);
    m.degraded.inc(2); // one the client saw, one it never got
    m.size.observe(3500);
    expect(crossCheckMetrics(b.entries, [{ instance: 'i1', after: await registry.metrics() }])).toEqual([]);
    const none = serviceRegistry();
    none.m.conflicts.inc(2);
    none.m.size.observe(3500);
    const found = crossCheckMetrics(b.entries, [{ instance: 'i1', after: await none.registry.metrics() }]);
    expect(found.map((a) => a.type)).toEqual(['metrics-degraded-mismatch']);
  });

  it('counts requests abandoned when the run stopped (an interrupt) as answers the client never got, and no more', async () => {
    const { registry, m } = serviceRegistry();
    m.conflicts.inc(3); // two the client saw, one for an append whose answer was thrown away
    m.degraded.inc(3); // one the client saw, two it threw away
    m.size.observe(3500);
    const scrape = [{ instance: 'i1', after: await registry.metrics() }];
    const without = crossCheckMetrics(clientHistory().entries, scrape);
    expect(without.map((a) => a.type).sort()).toEqual(['metrics-conflicts-mismatch', 'metrics-degraded-mismatch']);
    expect(crossCheckMetrics(clientHistory().entries, scrape, { abandonedRequests: 2 })).toEqual([]);
    const short = crossCheckMetrics(clientHistory().entries, scrape, { abandonedRequests: 1 });
    expect(short.map((a) => a.type)).toEqual(['metrics-degraded-mismatch']);
    expect(short[0]!.message).toContain('1 abandoned when the run stopped');
  });

  it('flags missing migrations and state sizes smaller than the client read', async () => {
    const { registry, m } = serviceRegistry();
    m.conflicts.inc(2);
    m.degraded.inc();
    m.size.observe(500); // le 1024; the client read a 3000-byte state
    const found = crossCheckMetrics(clientHistory().entries, [{ instance: 'i1', after: await registry.metrics() }], { expectedMigrationsMin: 1 });
    expect(found.map((a) => a.type)).toEqual(['metrics-migrations-missing', 'metrics-state-size-mismatch']);
  });

  it('after a restart compares only the answers from that instance after the new process started', async () => {
    const startedS = (registry: Registry, s: number) => new Gauge({ name: 'process_start_time_seconds', help: 's', registers: [registry] }).set(s);
    const old = serviceRegistry();
    startedS(old.registry, 1_000);
    old.m.conflicts.inc(7);
    const before = await old.registry.metrics();
    const fresh = serviceRegistry();
    startedS(fresh.registry, 2_000);
    fresh.m.conflicts.inc(2);
    fresh.m.size.observe(100);
    const b = new HistoryBuilder();
    const conflict = (at: number) => b.append({ instance: 'i1', turnId: `c${at}`, outcome: 'fail', status: 409, code: 'revision_conflict', at });
    conflict(1_500_000); // served by the old process: its count was lost with it
    conflict(2_100_000);
    conflict(2_200_000);
    b.append({ instance: 'i1', turnId: 't1', turnCount: 1, at: 2_300_000 });
    const scrapes = [{ instance: 'i1', before, after: await fresh.registry.metrics() }];
    expect(crossCheckMetrics(b.entries, scrapes)).toEqual([]);
    // one conflict more than the new process counted is a mismatch
    conflict(2_400_000);
    expect(crossCheckMetrics(b.entries, scrapes).map((a) => a.type)).toEqual(['metrics-conflicts-mismatch']);
  });
});
