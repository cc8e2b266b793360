/** The top half of a run report: header, verdict, invariants, timeline, fault impact. */
import { DASH, esc, faultLabel, fmtDuration, fmtInt, fmtMs, fmtNum, fmtOffset, fmtPct, isoUtc } from '../format.ts';
import { decodeSnapshot, percentilesMs } from '../../record/hdr.ts';
import { findSnapshot } from '../snapshots.ts';
import { proxyCostSentence } from '../proxy-cost.ts';
import type { ProvingOp, RunResult } from '../result-schema.ts';
import { errorRateNote } from '../derive/refusals.ts';
import { timelineCharts } from './charts.ts';
import { chip, table, tile } from './page.ts';
import { interruptionText, PARTIAL_NOTE, VERDICT_WORD, verdictKind } from '../verdict.ts';
import { RUNNER_HEADERS, runnerRows, runnersSentence } from '../runners.ts';

export function header(r: RunResult): string {
  const s = r.scenario;
  return (
    `<header><h1>${esc(s.name)} <span class="sub" style="font-weight:400">· ${esc(s.profile)}</span></h1>` +
    `<div class="sub"><span>run <code>${esc(r.runId)}</code></span><span>${esc(isoUtc(r.startedAtMs))}</span>` +
    `<span>${esc(fmtDuration(r.endedAtMs - r.startedAtMs))}</span>` +
    (s.backend ? `<span>backend ${esc(s.backend)}</span>` : '') +
    (s.engine ? `<span>engine ${esc(s.engine)}</span>` : '') +
    `</div>` +
    (s.description ? `<p class="sub">${esc(s.description)}</p>` : '') +
    `<nav class="toc"><a href="#invariants">Invariants</a><a href="#timeline">Timeline</a><a href="#faults">Faults</a>` +
    `<a href="#latency">Latency</a><a href="#state-health">State health</a><a href="#capacity">Capacity</a>` +
    `<a href="#thresholds">Thresholds</a><a href="#details">Run details</a></nav></header>`
  );
}

export function verdict(r: RunResult): string {
  const held = r.invariants.filter((i) => i.holds).length;
  const all = findSnapshot(r.latency.histograms, {});
  const lat = all && all.count > 0 ? percentilesMs(decodeSnapshot(all.snapshot)) : null;
  const recovered = r.faults.filter((f) => f.recovered).length;
  const m = r.metrics;
  const kind = verdictKind(r.verdict);
  const lead =
    kind === 'interrupted'
      ? `Run ${interruptionText(r.verdict.interrupted!)}: ${PARTIAL_NOTE}.`
      : r.verdict.pass
        ? `All ${r.invariants.length} invariants hold${r.thresholds.length ? ` and all ${r.thresholds.length} thresholds are met` : ''}.`
        : `${r.verdict.reasons.length} problem${r.verdict.reasons.length === 1 ? '' : 's'} found.`;
  return (
    `<section id="verdict" class="verdict ${kind}">` +
    `<div class="badge-big">${VERDICT_WORD[kind]}</div>` +
    `<div><div class="lead">${esc(lead)}</div>` +
    (r.verdict.reasons.length ? `<ul>${r.verdict.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '') +
    `</div></section>` +
    `<div class="tiles" id="key-figures">` +
    tile('Requests', fmtInt(m.totals.count)) +
    tile('Throughput', fmtNum(m.throughputPerSec), 'req/s') +
    tile('Error rate', fmtPct(m.errorRate), `${fmtInt(m.totals.fail + m.totals.unknown)} ops`, errorRateNote(r)) +
    tile('Degraded answers', fmtInt(m.totals.degraded)) +
    tile('p99 latency', fmtMs(lat?.p99Ms), 'ms') +
    tile('Max latency', fmtMs(lat?.maxMs), 'ms') +
    tile('Invariants held', `${held}/${r.invariants.length}`) +
    tile('Faults recovered', r.faults.length ? `${recovered}/${r.faults.length}` : DASH) +
    `</div>` +
    (r.proxyCost ? `<p class="note" id="proxy-cost">${esc(proxyCostSentence(r.proxyCost))}</p>` : '') +
    (r.runners
      ? `<section id="runners"><h2>Runners</h2><p>${esc(runnersSentence(r))}</p>` +
        table(RUNNER_HEADERS, runnerRows(r.runners).map((row) => row.map((c) => esc(c)))) +
        `</section>`
      : '')
  );
}

function opChips(ids: readonly number[], known: ReadonlySet<number>): string {
  const shown = ids.slice(0, 24);
  return (
    shown.map((id) => (known.has(id) ? `<a class="op" href="#op-${id}">#${id}</a>` : `<span class="op">#${id}</span>`)).join('') +
    (ids.length > shown.length ? ` <span class="note">+${ids.length - shown.length} more</span>` : '')
  );
}

export function invariants(r: RunResult): string {
  const known = new Set(r.provingOps.map((o) => o.id));
  const rows = r.invariants.map((inv) => [
    (inv.holds ? chip('pass', 'holds') : chip('fail', 'violated')) + (inv.partial ? ` ${chip('warn', 'partial')}` : ''),
    `<strong>${esc(inv.name)}</strong><div class="note">${esc(inv.description)}</div>`,
    fmtInt(inv.anomalies.length),
    inv.anomalies.length === 0
      ? `<span class="note">${DASH}</span>`
      : `<ul class="anoms">${inv.anomalies
          .slice(0, 50)
          .map(
            (a) =>
              `<li><span class="chip info">${esc(a.type)}</span> ${a.session ? `<code>${esc(a.session)}</code> ` : ''}${esc(a.message)}<div>${opChips(a.ops, known)}</div></li>`,
          )
          .join('')}${inv.anomalies.length > 50 ? `<li class="note">${inv.anomalies.length - 50} more in result.json</li>` : ''}</ul>`,
  ]);
  const body = r.invariants.length
    ? table(['', 'Invariant', 'Anomalies #', 'Anomalies and the operations that prove them'], rows, { id: 'invariants-table' })
    : `<p class="note">No invariants were checked in this run.</p>`;
  return `<section id="invariants"><h2>Invariants</h2>${body}${provingOps(r)}</section>`;
}

function provingOps(r: RunResult): string {
  if (r.provingOps.length === 0) return '';
  const at = (ms: number) => fmtOffset(ms - r.startedAtMs);
  const rows = [...r.provingOps]
    .sort((a, b) => a.id - b.id)
    .map((o: ProvingOp) => [
      `<span id="op-${o.id}" class="op">#${o.id}</span>`,
      esc(o.vu),
      esc(o.op),
      `<code>${esc(o.tenant ? `${o.tenant}/${o.session}` : o.session)}</code>`,
      esc(o.turnId ?? DASH),
      `${at(o.intendedStartMs)}<div class="note">${fmtMs(o.endMs - o.intendedStartMs)} ms</div>`,
      `${o.outcome === 'ok' ? chip('pass', 'ok') : o.outcome === 'fail' ? chip('fail', 'fail') : chip('warn', o.outcome)} ${esc(o.status)}${o.code ? ` <span class="note">${esc(o.code)}</span>` : ''}`,
      esc(o.revision ?? DASH),
      esc(o.turnCount ?? DASH),
      o.turnIds ? `<span class="mono">${esc(o.turnIds.length > 8 ? `…${o.turnIds.slice(-8).join(' ')}` : o.turnIds.join(' '))}</span>` : DASH,
      esc([o.instance, o.mode === 'degraded' ? 'degraded' : undefined, o.consistency].filter(Boolean).join(' · ') || DASH),
    ]);
  return (
    `<h3>Proving operations</h3><p class="note">History entries named by the anomalies above (full history: <code>history.json</code>). Times are from run start.</p>` +
    table(['Op', 'VU', 'Kind', 'Session', 'Turn id', 'Intended start', 'Outcome', 'Rev', 'Turns', 'Window (turn ids)', 'Where'], rows, { id: 'proving-ops' })
  );
}

export function timeline(r: RunResult): string {
  const rows = r.timeline.map((t) => [
    `<strong>${esc(t.id)}</strong>`,
    esc(t.target),
    `<span class="mono">${esc(faultLabel(t.fault))}</span>`,
    `${fmtOffset(t.plannedStartMs - r.startedAtMs)} → ${fmtOffset(t.plannedEndMs - r.startedAtMs)}`,
    t.actualStartMs === null ? DASH : `${fmtOffset(t.actualStartMs - r.startedAtMs)} → ${t.actualEndMs === null ? 'not undone' : fmtOffset(t.actualEndMs - r.startedAtMs)}`,
    (t.verified ? chip('pass', 'verified') : chip('warn', 'not verified')) + (t.undoError ? ` ${chip('fail', 'undo failed')}<div class="note">${esc(t.undoError)}</div>` : ''),
  ]);
  return (
    `<section id="timeline"><h2>Timeline</h2>${timelineCharts(r)}` +
    (r.timeline.length
      ? `<h3>Fault plan${r.faultPlan.seed !== undefined ? ` <span class="note">seed ${esc(r.faultPlan.seed)}</span>` : ''}</h3>` +
        table(['Fault', 'Target', 'What', 'Planned', 'Actual', 'Applied'], rows, { id: 'fault-plan' })
      : `<p class="note">No faults were injected in this run.</p>`) +
    `</section>`
  );
}

export function faultImpact(r: RunResult): string {
  if (r.faults.length === 0) return `<section id="faults"><h2>Blast radius and recovery</h2><p class="note">No faults, nothing to recover from.</p></section>`;
  const rows = r.faults.map((f) => [
    `<strong>${esc(f.faultId)}</strong>`,
    fmtInt(f.ops),
    fmtInt(f.failed),
    fmtInt(f.unknown),
    f.refused === undefined ? DASH : fmtInt(f.refused),
    fmtInt(f.degraded),
    fmtPct(f.errorRate),
    fmtInt(f.affectedSessions),
    esc(f.affectedInstances.join(', ') || DASH),
    `${fmtMs(f.p99BeforeMs)} → ${fmtMs(f.p99DuringMs)}`,
    f.recovered ? `${chip('pass', fmtDuration(f.timeToRecoverMs))}` : chip('fail', 'not recovered'),
  ]);
  return (
    `<section id="faults"><h2>Blast radius and recovery</h2>` +
    `<p class="note">Operations intended while each fault was applied. Failed: definitely not applied. Unknown: may or may not have applied (no answer, or a write the service could not confirm). ` +
    `Refused (503), counted within Failed or Unknown: the service said it could not make the operation durable, so the client treats a refused write as unknown — it may or may not have applied. ` +
    `Time to recover runs from the fault's end until error rate and p99 are back near their level before the fault, and stay there.</p>` +
    table(['Fault', 'Ops #', 'Failed #', 'Unknown #', 'Refused (503) #', 'Degraded #', 'Error rate #', 'Sessions hit #', 'Instances hit', 'p99 before → during (ms) #', 'Time to recover'], rows, { id: 'blast-radius' }) +
    `</section>`
  );
}
