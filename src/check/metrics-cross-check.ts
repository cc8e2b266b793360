/**
 * The service's /metrics against the client's view. Counters are compared as deltas between a
 * scrape before and after the run, summed over instances. Answers the client never got may have
 * been counted by the service, so the service's count may exceed the client's by at most that many;
 * never fall short. Requests whose answers the client threw away when the run was stopped
 * (abandoned, uncounted in the history) are answers it never got, too.
 *
 * Restarts: a process that restarted between its two scrapes (process_start_time_seconds changed)
 * lost its earlier counts, so only the client's answers from that instance (x-stateproof-instance)
 * after the new process started are compared. Start times are whole seconds, so answers within
 * half a second of it may belong to either process: they widen the accepted range.
 *
 *   state metrics present on every instance   (observability off → they are missing, named)
 *   Δ conflicts_total          ∈ [client 409 revision_conflict, + appends without a definite answer]
 *   Δ degraded_responses_total ∈ [client answers flagged degraded, + requests that got no answer]
 *   Δ lifecycle{event=migrate} ≥ expectedMigrationsMin (when given)
 *   state_size_bytes recorded saves, and the largest saved size ≥ the largest state the client read
 */
import { isProblem } from '../contract/wire.ts';
import type { HistoryEntry } from '../record/history.ts';
import { parsePrometheusText, sumSamples, type MetricFamily } from './prom-text.ts';
import { sessionKey } from './sessions.ts';
import type { Anomaly, MetricConcept, MetricNameMap, MetricsScrape } from './types.ts';

/** The state metrics INTERFACES.md section 1 promises. */
export const REQUIRED_METRICS = [
  'stateproof_state_op_duration_seconds',
  'stateproof_state_size_bytes',
  'stateproof_state_conflicts_total',
  'stateproof_state_cache_total',
  'stateproof_state_lifecycle_events_total',
  'stateproof_breaker_state',
  'stateproof_degraded_responses_total',
  'stateproof_http_requests_total',
] as const;

export interface MetricsCrossCheckOptions {
  expectedMigrationsMin?: number;
  /** Requests sent whose answers were thrown away when the run stopped (no history entry); default 0. */
  abandonedRequests?: number;
  /**
   * A backend profile's metric names per state-health concept (its own first, then the reference
   * name). Given, the check judges the backend by these: at least one state metric must exist
   * (the observability failure mode stays required), every name the profile maps must be there,
   * and the counters are compared under whichever name the backend exports.
   */
  names?: MetricNameMap;
}

type Parsed = {
  instance: string;
  before: Map<string, MetricFamily>;
  after: Map<string, MetricFamily>;
  /** Client answers from this instance that started at or after this surely reached the counted process. */
  definiteFromMs: number;
  /** ...and from this on they may have. */
  possibleFromMs: number;
  restarted: boolean;
};

function parseScrape(s: MetricsScrape): Parsed {
  const before = parsePrometheusText(s.before ?? '');
  const after = parsePrometheusText(s.after);
  const startedS = (m: Map<string, MetricFamily>) => m.get('process_start_time_seconds')?.samples[0]?.value;
  const a = startedS(after);
  const b = startedS(before);
  const restarted = s.before !== undefined && a !== undefined && b !== undefined && a !== b;
  return {
    instance: s.instance,
    before: restarted ? new Map() : before,
    after,
    definiteFromMs: restarted ? (a + 0.5) * 1000 : -Infinity,
    possibleFromMs: restarted ? (a - 0.5) * 1000 : -Infinity,
    restarted,
  };
}

/** How many client answers the scrapes cover that match `pred`: [surely, possibly]. */
function clientRange(history: readonly HistoryEntry[], parsed: readonly Parsed[], pred: (e: HistoryEntry) => boolean): [number, number] {
  const matching = history.filter(pred);
  // Without instance attribution (an external backend), every answer counts against the sum.
  if (!history.some((e) => e.instance !== undefined)) return [matching.length, matching.length];
  let low = 0;
  let high = 0;
  for (const p of parsed) {
    for (const e of matching) {
      if (e.instance !== p.instance) continue;
      if (e.startMs >= p.definiteFromMs) low++;
      if (e.startMs >= p.possibleFromMs) high++;
    }
  }
  return [low, high];
}

export function crossCheckMetrics(history: readonly HistoryEntry[], scrapes: readonly MetricsScrape[], opts: MetricsCrossCheckOptions = {}): Anomaly[] {
  if (scrapes.length === 0) return [{ type: 'metrics-missing', message: 'no /metrics scrape was given', ops: [] }];
  const anomalies: Anomaly[] = [];
  const parsed: Parsed[] = scrapes.map(parseScrape);
  const missing = new Set<string>();
  // The family a concept is exported under: the reference name, or the profile's name for it.
  const family = { conflicts: 'stateproof_state_conflicts_total', degraded: 'stateproof_degraded_responses_total', lifecycle: 'stateproof_state_lifecycle_events_total', size: 'stateproof_state_size_bytes' };
  if (opts.names) {
    const present = (name: string) => parsed.every((p) => p.after.has(name));
    const found: string[] = [];
    for (const [concept, ref] of Object.entries(opts.names) as Array<[MetricConcept, { names: readonly string[]; mapped: boolean }]>) {
      const name = ref.names.find(present);
      if (name) found.push(name);
      else if (ref.mapped) anomalies.push({ type: 'metrics-missing', message: `the profile maps ${concept} to ${ref.names[0]}, but /metrics does not export it`, ops: [] });
      const slot = { conflicts: 'conflicts', degradedResponses: 'degraded', lifecycleEvents: 'lifecycle', stateSize: 'size' }[concept as string] as keyof typeof family | undefined;
      if (slot) {
        if (name) family[slot] = name;
        else missing.add(family[slot]);
      }
    }
    if (found.length === 0) {
      const looked = Object.values(opts.names).flatMap((r) => r!.names);
      anomalies.push({ type: 'metrics-missing', message: `no state metrics found: /metrics exports none of ${looked.join(', ')} (map your own names in the backend profile's metrics)`, ops: [] });
    }
  } else {
    for (const p of parsed) {
      const absent = REQUIRED_METRICS.filter((m) => !p.after.has(m));
      for (const m of absent) missing.add(m);
      if (absent.length > 0) {
        anomalies.push({ type: 'metrics-missing', message: `instance ${p.instance} /metrics lacks ${absent.join(', ')}`, ops: [] });
      }
    }
  }
  const delta = (family: string, match: Record<string, string> = {}, sampleName?: string): number => {
    let total = 0;
    for (const p of parsed) {
      const a = sumSamples(p.after.get(family), match, sampleName);
      const b = sumSamples(p.before.get(family), match, sampleName);
      total += a >= b ? a - b : a;
    }
    return total;
  };
  const abandoned = opts.abandonedRequests ?? 0;
  const abandonedNote = abandoned ? `, ${abandoned} abandoned when the run stopped` : '';
  // A write cut off by the stop is in the history too (code 'interrupted', scenarios/lib/session-ops.ts)
  // and already among the engine's abandoned requests: counted once.
  const cutOff = (e: HistoryEntry) => e.code === 'interrupted';
  const noAnswer = history.filter((e) => e.status === 0 && !cutOff(e)).length + abandoned;
  const indefiniteAppends = history.filter((e) => e.op === 'append' && e.outcome === 'unknown' && !cutOff(e)).length + abandoned;

  if (!missing.has(family.conflicts)) {
    const server = delta(family.conflicts);
    const [low, high] = clientRange(history, parsed, (e) => isProblem(e, 'revision_conflict'));
    if (server < low || server > high + indefiniteAppends) {
      anomalies.push({
        type: 'metrics-conflicts-mismatch',
        message: `the service counted ${server} revision conflicts; the client saw ${range(low, high)} 409 revision_conflict answers (${indefiniteAppends - abandoned} appends got no definite answer${abandonedNote})`,
        ops: [],
      });
    }
  }
  if (!missing.has(family.degraded)) {
    const server = delta(family.degraded);
    const [low, high] = clientRange(history, parsed, (e) => e.mode === 'degraded');
    if (server < low || server > high + noAnswer) {
      anomalies.push({
        type: 'metrics-degraded-mismatch',
        message: `the service counted ${server} degraded responses; the client saw ${range(low, high)} answers flagged degraded (${noAnswer - abandoned} requests got no answer${abandonedNote})`,
        ops: [],
      });
    }
  }
  if (opts.expectedMigrationsMin !== undefined && !missing.has(family.lifecycle)) {
    const server = delta(family.lifecycle, { event: 'migrate' });
    if (server < opts.expectedMigrationsMin) {
      anomalies.push({
        type: 'metrics-migrations-missing',
        message: `the service counted ${server} migrate events; at least ${opts.expectedMigrationsMin} were expected`,
        ops: [],
      });
    }
  }
  if (!missing.has(family.size) && parsed.some((p) => p.after.get(family.size)?.samples.some((x) => x.name === `${family.size}_count`))) anomalies.push(...checkStateSize(history, parsed, delta, family.size));
  return anomalies;
}

function checkStateSize(history: readonly HistoryEntry[], parsed: Parsed[], delta: (f: string, m?: Record<string, string>, s?: string) => number, family: string): Anomaly[] {
  const saves = delta(family, {}, `${family}_count`);
  const [applied] = clientRange(history, parsed, (e) => e.op === 'append' && e.outcome === 'ok' && e.applied === true && e.phase !== 'seed');
  if (applied > 0 && saves === 0) {
    return [{ type: 'metrics-state-size-missing', message: `the client had ${applied} appends applied but the service recorded no state size`, ops: [] }];
  }
  // After a restart the sizes saved by the earlier process are gone: no upper bound to compare with.
  if (parsed.some((p) => p.restarted)) return [];
  // Only sessions written during the run: their sizes were saved while the scrapes were watching.
  const written = new Set(history.filter((e) => e.op === 'append' && e.outcome === 'ok' && e.applied === true).map(sessionKey));
  let biggest: HistoryEntry | undefined;
  for (const e of history) if (e.op === 'read' && e.outcome === 'ok' && e.bytes !== undefined && written.has(sessionKey(e)) && (!biggest || e.bytes > biggest.bytes!)) biggest = e;
  if (!biggest) return [];
  // Upper bound of the largest saved size: the smallest bucket bound that holds every save.
  let upper = 0;
  for (const p of parsed) {
    const buckets = new Map<number, number>();
    for (const [m, sign] of [[p.after, 1], [p.before, -1]] as const) {
      for (const s of m.get(family)?.samples ?? []) {
        if (s.name !== `${family}_bucket` || s.labels.le === undefined) continue;
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + sign * s.value);
      }
    }
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const total = buckets.get(Infinity) ?? 0;
    if (total <= 0) continue;
    upper = Math.max(upper, bounds.find((b) => buckets.get(b)! >= total) ?? Infinity);
  }
  if (biggest.bytes! > upper) {
    return [
      {
        type: 'metrics-state-size-mismatch',
        session: sessionKey(biggest),
        message: `read op ${biggest.id} showed a ${biggest.bytes}-byte state, but every size the service recorded was at most ${upper} bytes`,
        ops: [biggest.id],
      },
    ];
  }
  return [];
}

function range(low: number, high: number): string {
  return low === high ? String(low) : `${low}..${high}`;
}
