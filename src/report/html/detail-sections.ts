/** The bottom half of a run report: latency spectra, state health, capacity, thresholds, run details. */
import { DASH, esc, fmtBytes, fmtInt, fmtMs, fmtNum, fmtPct, phaseLabel, backendWithVersions } from '../format.ts';
import { decodeSnapshot, percentilesMs } from '../../record/hdr.ts';
import { findSnapshot, phaseOrder, shownPhases } from '../snapshots.ts';
import { memoryBreakdown } from '../capacity.ts';
import type { HdrSnapshot, RunResult } from '../result-schema.ts';
import { refusedTotal, REFUSED_MEANING } from '../derive/refusals.ts';
import { stableStringify } from '../stable-json.ts';
import { breakerLanes, phaseColor, SERVICE_COLOR, sizeHistogramChart, spectrumChart } from './charts.ts';
import { chip, table, tile } from './page.ts';

const OP_ORDER = ['all', 'append', 'read', 'delete'];

function opsOf(r: RunResult): string[] {
  const ops = [...new Set(r.latency.histograms.map((h) => h.op))];
  return ops.sort((a, b) => (OP_ORDER.indexOf(a) + 1 || 99) - (OP_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1));
}

function faultIds(r: RunResult): string[] {
  return r.timeline.map((t) => t.id);
}

function percentileCells(s: HdrSnapshot | undefined): string[] {
  if (!s || s.count === 0) return [fmtInt(s?.count ?? 0), DASH, DASH, DASH, DASH, DASH, DASH];
  const x = percentilesMs(decodeSnapshot(s.snapshot));
  return [fmtInt(x.count), fmtMs(x.p50Ms), fmtMs(x.p90Ms), fmtMs(x.p99Ms), fmtMs(x.p999Ms), fmtMs(x.p9999Ms), fmtMs(x.maxMs)];
}

export function latency(r: RunResult): string {
  const hs = r.latency.histograms;
  if (hs.length === 0) return `<section id="latency"><h2>Latency</h2><p class="note">No latency was recorded.</p></section>`;
  const phases = shownPhases(
    hs.filter((h) => h.instance === 'all').map((h) => h.phase),
    faultIds(r),
  );
  const spectrumPhases = phases.filter((p) => p !== 'all');
  const charts = opsOf(r).map((op) => {
    const series = (spectrumPhases.length ? spectrumPhases : ['all']).flatMap((phase) => {
      const s = findSnapshot(hs, { op, phase });
      return s && s.count > 0 ? [{ label: phaseLabel(phase), color: phaseColor(phase, spectrumPhases), snapshot: s }] : [];
    });
    const svc = findSnapshot(hs, { op, phase: 'all', kind: 'service' });
    if (svc && svc.count > 0) series.push({ label: 'service time (whole run)', color: SERVICE_COLOR, snapshot: svc, dash: true } as (typeof series)[number]);
    return series.length ? spectrumChart(`${op === 'all' ? 'All operations' : esc(op)} <span class="unit">${spectrumPhases.length ? 'by phase' : 'whole run'}</span>`, series) : '';
  });
  const rows: string[][] = [];
  for (const op of opsOf(r)) {
    for (const phase of phases) {
      const s = findSnapshot(hs, { op, phase });
      if (!s) continue;
      const svc = findSnapshot(hs, { op, phase, kind: 'service' });
      const svcP99 = svc && svc.count > 0 ? fmtMs(percentilesMs(decodeSnapshot(svc.snapshot)).p99Ms) : DASH;
      rows.push([phase === 'all' ? `<strong>${esc(op)}</strong>` : esc(op), phase === 'all' ? '<strong>whole run</strong>' : esc(phaseLabel(phase)), ...percentileCells(s), `<span class="note">${svcP99}</span>`]);
    }
  }
  const instances = [...new Set(hs.map((h) => h.instance))].filter((i) => i !== 'all').sort();
  const instRows = instances.map((inst) => [`<strong>${esc(inst)}</strong>`, ...percentileCells(findSnapshot(hs, { instance: inst }))]);
  return (
    `<section id="latency"><h2>Latency</h2>` +
    `<p class="note">Percentile spectra on HdrHistogram's 1/(1−p) axis: each step right is one more nine. Solid lines measure from the intended start (coordinated omission corrected); the dashed line is service time from the actual send. <code>latency/*.hgrm</code> holds every histogram in HdrHistogram's format.</p>` +
    `<div class="grid2">${charts.join('')}</div>` +
    `<h3>Percentiles by operation and phase <span class="unit">ms, from intended start; the last column is service time</span></h3>` +
    table(['Op', 'Phase', 'Count #', 'p50 #', 'p90 #', 'p99 #', 'p99.9 #', 'p99.99 #', 'Max #', 'Service p99 #'], rows, { id: 'percentiles' }) +
    (instRows.length
      ? `<h3>By instance <span class="unit">ms, all operations, whole run</span></h3>` +
        table(['Instance', 'Count #', 'p50 #', 'p90 #', 'p99 #', 'p99.9 #', 'p99.99 #', 'Max #'], instRows, { id: 'by-instance' })
      : '') +
    (r.stalenessMs
      ? `<h3>Measured staleness (bounded reads)</h3><p>p50 ${fmtMs(r.stalenessMs.p50)} ms · p99 ${fmtMs(r.stalenessMs.p99)} ms · max ${fmtMs(r.stalenessMs.max)} ms${r.stalenessMs.boundMs !== null ? ` · bound ${fmtMs(r.stalenessMs.boundMs)} ms` : ''}</p>`
      : '') +
    `</section>`
  );
}

export function stateHealth(r: RunResult): string {
  const h = r.stateHealth;
  if (!h) return `<section id="state-health"><h2>State health</h2><p class="note">The service's metrics were not collected in this run.</p></section>`;
  const cacheTiles = h.cache.map((c) => tile(`Cache hit rate · ${c.tier}`, fmtPct(c.hit + c.miss === 0 ? null : c.hit / (c.hit + c.miss)), `${fmtInt(c.hit)}/${fmtInt(c.hit + c.miss)}`));
  const life = Object.entries(h.lifecycle).sort(([a], [b]) => (a < b ? -1 : 1));
  const size = h.sizeBytes;
  return (
    `<section id="state-health"><h2>State health <span class="unit">from the service's own metrics</span></h2>` +
    `<div class="tiles">` +
    tile('Revision conflicts', fmtInt(h.conflicts)) +
    tile('Degraded responses', fmtInt(h.degradedResponses)) +
    cacheTiles.join('') +
    (size && size.count > 0 ? tile('Mean state size', fmtBytes(size.sum / size.count), `${fmtInt(size.count)} saves`) : '') +
    `</div>` +
    `<div class="grid2" style="margin-top:12px">` +
    `<figure class="panel"><figcaption>State size on save <span class="unit">stateproof_state_size_bytes</span></figcaption>${size && size.buckets.length ? sizeHistogramChart(size.buckets) : `<p class="note">No size histogram.</p>`}</figure>` +
    `<figure class="panel"><figcaption>Lifecycle events <span class="unit">stateproof_state_lifecycle_events_total</span></figcaption>` +
    (life.length ? table(['Event', 'Count #'], life.map(([k, v]) => [esc(k), fmtInt(v)]), { id: 'lifecycle' }) : `<p class="note">None recorded.</p>`) +
    `</figure></div>` +
    `<figure class="panel" id="breaker"><figcaption>Circuit breaker <span class="unit">stateproof_breaker_state per instance</span></figcaption>` +
    (h.breaker.length ? breakerLanes(r) : `<p class="note">Breaker state was not sampled.</p>`) +
    `</figure>` +
    h.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('') +
    `</section>`
  );
}

/** A cluster: what each primary held at the end of the run. */
function shardTable(c: NonNullable<RunResult['capacity']>): string {
  const shards = c.measured.shards;
  if (!shards || shards.length < 2) return '';
  const total = shards.reduce((a, s) => a + s.sessions, 0) || 1;
  return (
    `<h3>Per shard</h3>` +
    table(
      ['Primary', 'Slots #', 'Sessions #', 'Share #', 'used_memory #'],
      shards.map((s) => [esc(s.node), fmtInt(s.slots), fmtInt(s.sessions), `${Math.round((s.sessions / total) * 100)} %`, fmtBytes(s.usedMemoryBytes)]),
      { id: 'capacity-shards' },
    )
  );
}

export function capacity(r: RunResult): string {
  const c = r.capacity;
  if (!c) return `<section id="capacity"><h2>Capacity</h2><p class="note">No capacity figures: run a long-session scenario, then <code>stateproof capacity &lt;run-dir&gt;</code>.</p></section>`;
  const m = c.measured;
  const settings = `window ${c.settings.windowTurns ?? DASH} turns · TTL ${c.settings.ttlSeconds ?? DASH} s${c.settings.maxStateBytes ? ` · max state ${fmtBytes(c.settings.maxStateBytes)}` : ''}`;
  // A cluster: the hottest shard's primary, which is what each shard must be sized for.
  const sharded = c.projections.some((p) => p.hottestShardBytes != null);
  const rows = c.projections.map((p) => [fmtInt(p.sessions), fmtBytes(p.payloadP50Bytes), fmtBytes(p.payloadP99Bytes), fmtBytes(p.payloadMaxBytes), fmtBytes(p.redisBytes), ...(sharded ? [fmtBytes(p.hottestShardBytes ?? null)] : [])]);
  return (
    `<section id="capacity"><h2>Capacity</h2>` +
    `<div class="tiles">` +
    tile('Sessions measured', fmtInt(m.sessions)) +
    tile('Bytes/session p50', fmtBytes(m.bytesPerSession.p50)) +
    tile('Bytes/session p99', fmtBytes(m.bytesPerSession.p99)) +
    tile('Bytes/session max', fmtBytes(m.bytesPerSession.max)) +
    tile('Redis used_memory/session', fmtBytes(m.usedMemoryPerSessionBytes)) +
    (c.sessionsPerGiB ? tile('Sessions per GiB', fmtInt(c.sessionsPerGiB.byRedisUsedMemory ?? c.sessionsPerGiB.byPayloadP99), c.sessionsPerGiB.byRedisUsedMemory !== null ? 'by used_memory' : 'by payload p99') : '') +
    `</div><p class="note">Measured with ${esc(settings)}.` +
    (c.projectedSettings
      ? ` Projected to window ${c.projectedSettings.windowTurns ?? DASH} turns, TTL ${c.projectedSettings.ttlSeconds ?? DASH} s${c.projectedSettings.sessionsPerHour !== null ? `, ${fmtInt(c.projectedSettings.sessionsPerHour)} new sessions/hour` : ''}.`
      : '') +
    `</p>` +
    (rows.length ? table(['Live sessions #', 'Payload p50 × N #', 'Payload p99 × N #', 'Payload max × N #', 'Redis used_memory #', ...(sharded ? ['Hottest shard #'] : [])], rows, { id: 'capacity-table' }) : '') +
    shardTable(c) +
    keyMemoryTable(c) +
    (c.bytesByTurn.length
      ? `<h3>State size as sessions grew</h3>` +
        table(
          ['Turns', 'Reads #', 'Bytes p50 #', 'Bytes max #'],
          c.bytesByTurn.map((b) => [`${fmtInt(b.fromTurn)}–${fmtInt(b.toTurn)}`, fmtInt(b.reads), fmtBytes(b.p50Bytes), fmtBytes(b.maxBytes)]),
          { id: 'bytes-by-turn' },
        )
      : '') +
    (c.assumptions.length ? `<ul class="note">${c.assumptions.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>` : '') +
    `</section>`
  );
}

/** used_memory per session by key kind: why it is several times the payload. */
function keyMemoryTable(c: NonNullable<RunResult['capacity']>): string {
  const parts = memoryBreakdown(c);
  if (!parts) return '';
  const rows = parts.map((p) => [esc(p.kind), p.keys === null ? '' : fmtInt(p.keys), fmtBytes(p.perSessionBytes), p.share === null ? DASH : `${(p.share * 100).toFixed(1)}%`]);
  return `<h3>Where used_memory goes, per session</h3>` + table(['Key kind', 'Keys #', 'Per session #', 'Share of used_memory #'], rows, { id: 'capacity-key-memory' });
}

export function thresholds(r: RunResult): string {
  const rows = r.thresholds.map((t) => [t.ok ? chip('pass', 'met') : chip('fail', 'failed'), `<code>${esc(t.metric)}</code>`, `<code>${esc(t.expression)}</code>`, esc(t.observed ?? DASH)]);
  return `<section id="thresholds"><h2>Thresholds</h2>${rows.length ? table(['', 'Metric', 'Threshold', 'Observed'], rows, { id: 'thresholds-table' }) : '<p class="note">No thresholds were set.</p>'}</section>`;
}

export function details(r: RunResult): string {
  const t = r.topology;
  const e = r.environment;
  const inst = t.instances.map((i) => [`<strong>${esc(i.id)}</strong>`, esc(i.url ?? DASH), esc(i.schemaVersion ?? DASH), i.unsafe?.length ? chip('warn', `unsafe: ${i.unsafe.join(', ')}`) : chip('pass', 'all safeguards')]);
  const kv = (pairs: Array<[string, string]>) => `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
  return (
    `<section id="details"><h2>Run details</h2>` +
    `<h3>Topology</h3><p>${esc(t.description)} <span class="note">(${esc(t.provider)})</span></p>` +
    (inst.length ? table(['Instance', 'URL', 'Schema #', 'Safeguards'], inst, { id: 'instances' }) : '') +
    (t.router || t.proxies.length ? `<p class="note">${t.router ? `Router: ${esc(t.router)}. ` : ''}${t.proxies.length ? `Fault proxies: ${t.proxies.map((p) => `<code>${esc(p)}</code>`).join(', ')}.` : ''}</p>` : '') +
    `<h3>Load</h3>` +
    kv([
      [
        'Totals',
        `${fmtInt(r.metrics.totals.count)} ops · ${fmtInt(r.metrics.totals.ok)} ok · ${fmtInt(r.metrics.totals.fail)} failed · ${fmtInt(r.metrics.totals.unknown)} unknown` +
          (refusedTotal(r) ? ` <span class="note">(of the failed and unknown, ${fmtInt(refusedTotal(r))} ${esc(REFUSED_MEANING)})</span>` : ''),
      ],
      ['By operation', Object.entries(r.metrics.byOp).map(([k, v]) => `${esc(k)} ${fmtInt(v.count)}`).join(' · ') || DASH],
      ['By status', Object.entries(r.metrics.byStatus).map(([k, v]) => `${esc(k === '0' ? 'no response' : k === '503' ? '503 refused' : k)}: ${fmtInt(v)}`).join(' · ') || DASH],
      ['Dropped iterations', fmtInt(r.metrics.droppedIterations)],
      ['History entries', fmtInt(r.historyEntries)],
    ]) +
    `<h3>Environment</h3>` +
    kv([
      ['Node', esc(e.node)],
      ['Redis', esc(e.redis ?? DASH)],
      ...(e.backend ? [['Backend', esc(backendWithVersions(e.backend))] as [string, string]] : []),
      ['k6', esc(e.k6 ?? DASH)],
      ['Machine', `${esc(e.os)} ${esc(e.arch)} · ${e.cpus} cores${e.cpuModel ? ` (${esc(e.cpuModel)})` : ''} · ${fmtBytes(e.memoryBytes)}`],
      ['Git commit', e.gitCommit ? `<code>${esc(e.gitCommit)}</code>` : DASH],
      ['Throughput', `${fmtNum(r.metrics.throughputPerSec)} req/s`],
    ]) +
    `<h3>Configuration <span class="unit">secrets redacted</span></h3><pre>${esc(stableStringify(r.config).trimEnd())}</pre>` +
    `</section>`
  );
}
