/**
 * A very small SVG chart kit: the report must be self-contained (no network, no scripts), so charts
 * are drawn here as static SVG. Coordinates are rounded to 0.1 px so output is byte-stable.
 *
 *   scale (linear | log10 | percentile "1/(1-p)")  →  frame (grid, ticks, labels)  →  marks (lines, areas, bands)
 */
import { esc } from '../format.ts';

export const COLORS = {
  ink: '#1f2933',
  muted: '#616e7c',
  grid: '#e4e7eb',
  axis: '#9aa5b1',
  band: '#f3d9b1',
  bandInk: '#8d5a1b',
} as const;
export const PALETTE = ['#2f6690', '#c8553d', '#2a9d8f', '#8e6c8a', '#d4a017', '#5c946e', '#b5651d', '#4a5899', '#a23b72', '#607d8b'];

export const r1 = (x: number): string => {
  const v = Math.round(x * 10) / 10;
  return Object.is(v, -0) ? '0' : String(v);
};

export interface Scale {
  (v: number): number;
  ticks: number[];
  label(v: number): string;
}

/** 1, 2, 5 × 10^k steps: the tick spacing people read without effort. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

export function niceMax(v: number, count = 4): number {
  if (!(v > 0)) return 1;
  const step = niceStep(v, count);
  return Math.ceil(v / step - 1e-9) * step;
}

export function linearScale(d0: number, d1: number, r0: number, r1_: number, opts: { ticks?: number; label?: (v: number) => string } = {}): Scale {
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1_ - r0)) as Scale;
  const step = niceStep(span, opts.ticks ?? 4);
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  f.ticks = ticks;
  f.label = opts.label ?? ((v) => (Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(6)))));
  return f;
}

/** log10 axis with ticks at 1, 10, 100... (and 2, 5 between when the span is short). */
export function logScale(d0: number, d1: number, r0: number, r1_: number, label: (v: number) => string): Scale {
  const lo = Math.log10(d0);
  const hi = Math.log10(d1);
  const f = ((v: number) => r0 + ((Math.log10(Math.max(v, d0)) - lo) / (hi - lo || 1)) * (r1_ - r0)) as Scale;
  const ticks: number[] = [];
  const decades = hi - lo;
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
      const t = m * 10 ** k;
      if (t >= d0 * 0.999 && t <= d1 * 1.001) ticks.push(Number(t.toPrecision(6)));
    }
  }
  f.ticks = ticks;
  f.label = label;
  return f;
}

/**
 * HdrHistogram plotter's percentile axis: x = log10(1 / (1 - p)), so 90 %, 99 %, 99.9 % ... sit at
 * equal distances and the tail gets the room it deserves. `maxNines` = 5 ends the axis at 99.999 %.
 */
export function percentileScale(maxNines: number, r0: number, r1_: number): Scale {
  const f = ((p: number) => r0 + (Math.min(Math.log10(1 / Math.max(1e-12, 1 - p)), maxNines) / maxNines) * (r1_ - r0)) as Scale;
  f.ticks = Array.from({ length: maxNines + 1 }, (_, k) => 1 - 10 ** -k);
  f.label = (p) => {
    if (p <= 0) return '0%';
    const nines = Math.round(-Math.log10(1 - p));
    return `${(100 - 10 ** (2 - nines)).toFixed(Math.max(0, nines - 2))}%`;
  };
  return f;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function frame(width: number, height: number, margins: Partial<Omit<Frame, 'width' | 'height'>> = {}): Frame {
  return { width, height, left: margins.left ?? 56, right: margins.right ?? 16, top: margins.top ?? 22, bottom: margins.bottom ?? 28 };
}

export function svgOpen(f: Frame, title: string): string {
  return (
    `<svg class="chart" viewBox="0 0 ${f.width} ${f.height}" width="100%" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${esc(title)}</title>`
  );
}

export function axes(f: Frame, x: Scale, y: Scale, opts: { xTitle?: string; yTitle?: string } = {}): string {
  const out: string[] = [];
  const bottom = f.height - f.bottom;
  for (const t of y.ticks) {
    const py = r1(y(t));
    out.push(`<line x1="${f.left}" x2="${f.width - f.right}" y1="${py}" y2="${py}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<text x="${f.left - 6}" y="${py}" dy="0.32em" text-anchor="end" class="tick">${esc(y.label(t))}</text>`);
  }
  for (const t of x.ticks) {
    const px = r1(x(t));
    out.push(`<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 4}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${px}" y="${bottom + 16}" text-anchor="middle" class="tick">${esc(x.label(t))}</text>`);
  }
  out.push(`<line x1="${f.left}" x2="${f.width - f.right}" y1="${bottom}" y2="${bottom}" stroke="${COLORS.axis}"/>`);
  if (opts.yTitle) out.push(`<text x="${f.left - 6}" y="${f.top - 9}" text-anchor="end" class="axis-title">${esc(opts.yTitle)}</text>`);
  if (opts.xTitle) out.push(`<text x="${f.width - f.right}" y="${f.height - 2}" text-anchor="end" class="axis-title">${esc(opts.xTitle)}</text>`);
  return out.join('');
}

/** A polyline that breaks where a value is missing (null), so gaps show as gaps. */
export function linePath(points: ReadonlyArray<readonly [number, number | null]>, x: Scale, y: Scale): string {
  let d = '';
  let pen = false;
  for (const [px, py] of points) {
    if (py === null || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${r1(x(px))},${r1(y(py))}`;
    pen = true;
  }
  return d;
}

export function line(points: ReadonlyArray<readonly [number, number | null]>, x: Scale, y: Scale, color: string, opts: { width?: number; dash?: string; step?: boolean } = {}): string {
  const pts = opts.step ? stepPoints(points) : points;
  const d = linePath(pts, x, y);
  if (!d) return '';
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${opts.width ?? 1.6}" stroke-linejoin="round" stroke-linecap="round"${opts.dash ? ` stroke-dasharray="${opts.dash}"` : ''}/>`;
}

function stepPoints(points: ReadonlyArray<readonly [number, number | null]>): Array<readonly [number, number | null]> {
  const out: Array<readonly [number, number | null]> = [];
  points.forEach((p, i) => {
    const prev = points[i - 1];
    if (prev && prev[1] !== null && p[1] !== null) out.push([p[0], prev[1]]);
    out.push(p);
  });
  return out;
}

/** Filled area from the baseline up to the values (nulls count as zero). */
export function area(points: ReadonlyArray<readonly [number, number | null]>, x: Scale, y: Scale, color: string, opacity = 0.18): string {
  if (points.length === 0) return '';
  const y0 = r1(y(0));
  const first = points[0]!;
  const last = points[points.length - 1]!;
  let d = `M${r1(x(first[0]))},${y0}`;
  for (const [px, py] of points) d += `L${r1(x(px))},${r1(y(py ?? 0))}`;
  d += `L${r1(x(last[0]))},${y0}Z`;
  return `<path d="${d}" fill="${color}" fill-opacity="${opacity}" stroke="none"/>`;
}

/** Shaded vertical bands for fault windows, labelled at the top. */
export function bands(f: Frame, x: Scale, windows: ReadonlyArray<{ start: number; end: number; label: string }>, withLabels: boolean): string {
  const out: string[] = [];
  const top = f.top;
  const h = f.height - f.bottom - f.top;
  const xMin = f.left;
  const xMax = f.width - f.right;
  for (const w of windows) {
    const a = Math.max(xMin, Math.min(xMax, x(w.start)));
    const b = Math.max(xMin, Math.min(xMax, x(w.end)));
    out.push(`<rect x="${r1(a)}" y="${top}" width="${r1(Math.max(1.5, b - a))}" height="${r1(h)}" fill="${COLORS.band}" fill-opacity="0.55"/>`);
    if (withLabels) out.push(`<text x="${r1(a + 4)}" y="${top + 11}" class="band-label">${esc(w.label)}</text>`);
  }
  return out.join('');
}

export function legend(items: ReadonlyArray<{ label: string; color: string; dash?: boolean; swatch?: 'line' | 'box' }>): string {
  return (
    `<div class="legend">` +
    items
      .map((i) => `<span class="key"><i class="${i.swatch === 'box' ? 'box' : i.dash ? 'dash' : 'line'}" style="--c:${i.color}"></i>${esc(i.label)}</span>`)
      .join('') +
    `</div>`
  );
}
