/**
 * The report's charts, each a pure function of result data → SVG string:
 * the run timeline (throughput, errors, latency percentiles per second, fault windows shaded),
 * percentile spectra on HdrHistogram's 1/(1-p) axis, the state-size histogram and breaker lanes.
 */
import { fmtBytesShort, fmtInt, phaseLabel } from '../format.ts';
import { decodeSnapshot } from '../../record/hdr.ts';
import { parseHgrm, toHgrm } from '../hgrm.ts';
import type { HdrSnapshot, RunResult } from '../result-schema.ts';
import { faultWindows } from '../derive/phases.ts';
import { COLORS, PALETTE, area, axes, bands, frame, legend, line, linearScale, logScale, niceMax, percentileScale, r1, svgOpen } from './svg.ts';

const W = 960;

export const SERIES_COLORS = { ok: '#2f6690', errors: '#c0392b', degraded: '#d4a017', p50: '#2a9d8f', p90: '#2f6690', p99: '#8e6c8a', max: '#c8553d' };

interface Band {
  start: number;
  end: number;
  label: string;
}

function faultBandsSec(result: RunResult): Band[] {
  return faultWindows(result.timeline).map((w) => ({
    start: (w.startMs - result.startedAtMs) / 1000,
    end: (w.endMs - result.startedAtMs) / 1000,
    label: w.id,
  }));
}

function runSeconds(result: RunResult): number {
  const { points, intervalMs } = result.metrics.series;
  const fromSeries = points.length ? (points[points.length - 1]!.offsetMs + intervalMs) / 1000 : 0;
  return Math.max(1, fromSeries, (result.endedAtMs - result.startedAtMs) / 1000);
}

const secLabel = (v: number) => `${v}s`;

/** Points sit at the middle of their interval. */
function perSecond(result: RunResult, pick: (p: RunResult['metrics']['series']['points'][number]) => number | null): Array<[number, number | null]> {
  const { points, intervalMs } = result.metrics.series;
  const perSec = 1000 / intervalMs;
  return points.map((p) => {
    const v = pick(p);
    return [(p.offsetMs + intervalMs / 2) / 1000, v === null ? null : v * perSec] as [number, number | null];
  });
}

export function timelineCharts(result: RunResult): string {
  const seconds = runSeconds(result);
  const bandsSec = faultBandsSec(result);
  const { intervalMs } = result.metrics.series;
  const perSecRatio = 1000 / intervalMs;
  const out: string[] = [];

  // Throughput.
  {
    const f = frame(W, 190);
    const okPts = perSecond(result, (p) => p.ok);
    const allPts = perSecond(result, (p) => p.requests);
    const yMax = niceMax(Math.max(1, ...allPts.map(([, v]) => v ?? 0)));
    const x = linearScale(0, seconds, f.left, f.width - f.right, { ticks: 10, label: secLabel });
    const y = linearScale(0, yMax, f.height - f.bottom, f.top, { ticks: 4 });
    out.push(
      `<figure class="panel" id="chart-throughput"><figcaption>Throughput <span class="unit">completed requests per second</span></figcaption>` +
        legend([
          { label: 'all', color: SERIES_COLORS.p50 },
          { label: 'ok', color: SERIES_COLORS.ok },
          { label: 'fault window', color: COLORS.band, swatch: 'box' },
        ]) +
        svgOpen(f, 'Throughput per second') +
        bands(f, x, bandsSec, true) +
        axes(f, x, y, { yTitle: 'req/s' }) +
        area(okPts, x, y, SERIES_COLORS.ok) +
        line(allPts, x, y, SERIES_COLORS.p50, { width: 1.2, dash: '3 2' }) +
        line(okPts, x, y, SERIES_COLORS.ok) +
        `</svg></figure>`,
    );
  }

  // Errors and degraded answers.
  {
    const f = frame(W, 150);
    const errPts = perSecond(result, (p) => p.errors);
    const degPts = perSecond(result, (p) => p.degraded);
    const yMax = niceMax(Math.max(1, ...errPts.map(([, v]) => v ?? 0), ...degPts.map(([, v]) => v ?? 0)), 3);
    const x = linearScale(0, seconds, f.left, f.width - f.right, { ticks: 10, label: secLabel });
    const y = linearScale(0, yMax, f.height - f.bottom, f.top, { ticks: 3 });
    out.push(
      `<figure class="panel" id="chart-errors"><figcaption>Errors <span class="unit">failed or unknown outcomes per second, and degraded answers</span></figcaption>` +
        legend([
          { label: 'errors', color: SERIES_COLORS.errors },
          { label: 'degraded', color: SERIES_COLORS.degraded, dash: true },
        ]) +
        svgOpen(f, 'Errors per second') +
        bands(f, x, bandsSec, false) +
        axes(f, x, y, { yTitle: '/s' }) +
        area(errPts, x, y, SERIES_COLORS.errors, 0.15) +
        line(errPts, x, y, SERIES_COLORS.errors) +
        line(degPts, x, y, SERIES_COLORS.degraded, { dash: '4 3' }) +
        `</svg></figure>`,
    );
  }

  // Latency percentiles per interval, log scale: a stall of seconds and a normal 5 ms both stay readable.
  {
    const f = frame(W, 220);
    const keys = ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const;
    const series = keys.map((k) => perSecond(result, (p) => p[k]).map(([t, v]) => [t, v === null ? null : v / perSecRatio] as [number, number | null]));
    const values = series.flat().map(([, v]) => v).filter((v): v is number => v !== null && v > 0);
    const lo = values.length ? 10 ** Math.floor(Math.log10(Math.min(...values))) : 0.1;
    const hi = values.length ? 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.0001)) : 10;
    const x = linearScale(0, seconds, f.left, f.width - f.right, { ticks: 10, label: secLabel });
    const y = logScale(lo, Math.max(hi, lo * 10), f.height - f.bottom, f.top, (v) => (v >= 1 ? fmtInt(v) : String(v)));
    const colors = [SERIES_COLORS.p50, SERIES_COLORS.p90, SERIES_COLORS.p99, SERIES_COLORS.max];
    out.push(
      `<figure class="panel" id="chart-latency"><figcaption>Latency per second <span class="unit">ms, log scale, from intended start (coordinated-omission corrected)</span></figcaption>` +
        legend(['p50', 'p90', 'p99', 'max'].map((label, i) => ({ label, color: colors[i]!, dash: label === 'max' }))) +
        svgOpen(f, 'Latency percentiles per second') +
        bands(f, x, bandsSec, false) +
        axes(f, x, y, { yTitle: 'ms' }) +
        series.map((s, i) => line(s, x, y, colors[i]!, { width: i === 3 ? 1.1 : 1.6, ...(i === 3 ? { dash: '3 2' } : {}) })).join('') +
        `</svg></figure>`,
    );
  }
  return out.join('\n');
}

export interface SpectrumSeries {
  label: string;
  color: string;
  dash?: boolean;
  snapshot: HdrSnapshot;
}

/** Percentile spectrum: value (ms) against percentile on the 1/(1-p) axis, one line per series. */
export function spectrumChart(title: string, series: readonly SpectrumSeries[]): string {
  const f = frame(W / 2 - 10, 240, { left: 52, right: 12 });
  const curves = series.map((s) => {
    const rows = s.snapshot.count > 0 ? parseHgrm(toHgrm(decodeSnapshot(s.snapshot.snapshot))).rows : [];
    return { s, pts: rows.filter((r) => r.percentile < 1).map((r) => [r.percentile, r.valueMs] as [number, number]) };
  });
  const maxP = Math.max(0.9, ...curves.flatMap((c) => c.pts.map(([p]) => p)));
  const nines = Math.min(6, Math.max(2, Math.ceil(-Math.log10(1 - maxP) - 1e-9)));
  const yMax = niceMax(Math.max(1, ...curves.flatMap((c) => c.pts.map(([, v]) => v))));
  const x = percentileScale(nines, f.left, f.width - f.right);
  const y = linearScale(0, yMax, f.height - f.bottom, f.top, { ticks: 4 });
  return (
    `<figure class="panel spectrum"><figcaption>${title}</figcaption>` +
    legend(series.map((s) => ({ label: s.label, color: s.color, ...(s.dash ? { dash: true } : {}) }))) +
    svgOpen(f, `Percentile spectrum: ${title.replace(/<[^>]+>/g, '')}`) +
    axes(f, x, y, { yTitle: 'ms', xTitle: 'percentile' }) +
    curves.map(({ s, pts }) => line(pts, x, y, s.color, s.dash ? { dash: '4 3' } : {})).join('') +
    `</svg></figure>`
  );
}

/** The colour the spectra's service-time line uses; no phase gets it. */
export const SERVICE_COLOR = '#9aa5b1';

/**
 * One colour per phase, never shared however many faults a plan has: "before" (or the whole run)
 * is dark grey, and each fault gets its own hue, spaced evenly round the colour wheel — dark while
 * it is applied, a light tint of the same hue after it, so a fault's two phases read as a pair.
 */
export function phaseColor(phase: string, phases: readonly string[]): string {
  if (phase === 'before' || phase === 'all') return '#3e4c59';
  const faultOf = (p: string) => p.replace(/^(during|after)-/, '');
  const faults = [...new Set(phases.filter((p) => /^(during|after)-/.test(p)).map(faultOf))];
  const i = Math.max(0, faults.indexOf(faultOf(phase)));
  const hue = ((i * 360) / Math.max(1, faults.length)) % 360;
  return phase.startsWith('after-') ? hslHex(hue, 0.6, 0.68) : hslHex(hue, 0.72, 0.4);
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `#${[0, 8, 4].map((n) => channel(n).toString(16).padStart(2, '0')).join('')}`;
}

/** stateproof_state_size_bytes: Prometheus cumulative buckets drawn as per-bucket bars. */
export function sizeHistogramChart(buckets: ReadonlyArray<{ le: number | '+Inf'; count: number }>): string {
  const le = (b: { le: number | '+Inf' }) => (b.le === '+Inf' ? Infinity : b.le);
  const sorted = [...buckets].sort((a, b) => le(a) - le(b));
  const bars = sorted.map((b, i) => {
    const prev = sorted[i - 1];
    return { label: b.le !== '+Inf' ? `≤${fmtBytesShort(b.le)}` : `>${fmtBytesShort(prev && prev.le !== '+Inf' ? prev.le : 0)}`, n: b.count - (prev?.count ?? 0) };
  });
  // Labels run horizontally while they fit their bar's slot (about 6 px a character at 10.5 px),
  // and slant otherwise: the service's 14 buckets would overlap side by side.
  const width = W / 2 - 10;
  const slot = (width - 48 - 12) / Math.max(1, bars.length);
  const longest = Math.max(1, ...bars.map((b) => b.label.length));
  const slant = longest * 6.2 > slot - 4;
  const f = frame(width, slant ? 200 + longest * 4 : 200, { left: 48, right: 12, bottom: slant ? 24 + longest * 4.5 : 40 });
  const yMax = niceMax(Math.max(1, ...bars.map((b) => b.n)), 3);
  const y = linearScale(0, yMax, f.height - f.bottom, f.top, { ticks: 3 });
  const out: string[] = [svgOpen(f, 'State size histogram'), axes(f, Object.assign((v: number) => v, { ticks: [], label: String }), y, { yTitle: 'saves' })];
  bars.forEach((b, i) => {
    const x0 = f.left + i * slot + slot * 0.15;
    const top = y(b.n);
    out.push(`<rect x="${r1(x0)}" y="${r1(top)}" width="${r1(slot * 0.7)}" height="${r1(f.height - f.bottom - top)}" fill="${PALETTE[0]}" rx="1.5"/>`);
    const lx = r1(x0 + slot * 0.35);
    const ly = f.height - f.bottom + 14;
    out.push(
      slant
        ? `<text x="${lx}" y="${ly - 4}" text-anchor="end" transform="rotate(-40 ${lx} ${ly - 4})" class="tick">${b.label}</text>`
        : `<text x="${lx}" y="${ly}" text-anchor="middle" class="tick">${b.label}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

const BREAKER = [
  { label: 'closed', color: '#cfe3d6' },
  { label: 'open', color: '#c0392b' },
  { label: 'half-open', color: '#d4a017' },
] as const;

/** One lane per instance, coloured by breaker state, with fault windows behind. */
export function breakerLanes(result: RunResult): string {
  const samples = result.stateHealth?.breaker ?? [];
  const instances = [...new Set(samples.map((s) => s.instance))].sort();
  const laneH = 18;
  const f = frame(W, 40 + instances.length * (laneH + 8) + 24, { left: 56, top: 8, bottom: 24 });
  const seconds = runSeconds(result);
  const x = linearScale(0, seconds, f.left, f.width - f.right, { ticks: 10, label: secLabel });
  const out: string[] = [svgOpen(f, 'Circuit breaker state over time'), bands(f, x, faultBandsSec(result), true)];
  instances.forEach((inst, li) => {
    const y0 = f.top + 18 + li * (laneH + 8);
    const mine = samples.filter((s) => s.instance === inst).sort((a, b) => a.offsetMs - b.offsetMs);
    out.push(`<text x="${f.left - 6}" y="${y0 + laneH / 2}" dy="0.32em" text-anchor="end" class="tick">${inst}</text>`);
    mine.forEach((s, i) => {
      const a = x(s.offsetMs / 1000);
      const b = x((mine[i + 1]?.offsetMs ?? seconds * 1000) / 1000);
      out.push(`<rect x="${r1(a)}" y="${y0}" width="${r1(Math.max(0.8, b - a))}" height="${laneH}" fill="${BREAKER[s.state].color}"/>`);
    });
  });
  out.push(axes(f, x, Object.assign((v: number) => v, { ticks: [], label: String }), {}));
  out.push('</svg>');
  return legend(BREAKER.map((b) => ({ label: b.label, color: b.color, swatch: 'box' as const }))) + out.join('');
}

export { phaseLabel };
