/**
 * Number and text formatting shared by every writer. Deliberately locale-free (no Intl grouping
 * that could differ between machines) so outputs are byte-identical wherever they are rendered.
 */
export const DASH = '—';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  const s = Math.round(Math.abs(n)).toString();
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds with precision that suits the magnitude: 0.412, 4.12, 41.2, 412, 4,120. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const a = Math.abs(ms);
  if (a === 0) return '0';
  if (a < 1) return ms.toFixed(3);
  if (a < 10) return ms.toFixed(2);
  if (a < 100) return ms.toFixed(1);
  return fmtInt(ms);
}

export function fmtNum(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  return Math.abs(x) >= 1000 ? fmtInt(x) : x.toFixed(digits);
}

export function fmtPct(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  const p = ratio * 100;
  if (p === 0) return '0%';
  return `${p < 0.1 ? p.toFixed(3) : p < 10 ? p.toFixed(2) : p.toFixed(1)}%`;
}

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** Bytes for axis labels: "512 B", "1 KiB", "1.5 KiB" (no trailing zeros). */
export function fmtBytesShort(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(1))} ${units[i]}`;
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Seconds since run start, as the timeline's axis shows them: "+12.3 s". */
export function fmtOffset(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  return `+${(ms / 1000).toFixed(1)} s`;
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** Human label for a phase id: "during-redis-down" → "during redis-down", "all" → "whole run". */
export function phaseLabel(phase: string): string {
  if (phase === 'all') return 'whole run';
  const m = phase.match(/^(during|after)-(.+)$/);
  return m ? `${m[1]} ${m[2]}` : phase;
}

/** A short description of a fault value ({type: 'latency', latency: 500} → "latency latency=500"). */
export function faultLabel(fault: Record<string, unknown>): string {
  const type = typeof fault.type === 'string' ? fault.type : typeof fault.kind === 'string' ? fault.kind : 'fault';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fault)) {
    if (k === 'type' || k === 'kind') continue;
    if (v !== null && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) parts.push(`${k2}=${scalar(v2)}`);
    } else parts.push(`${k}=${scalar(v)}`);
  }
  return parts.length ? `${type} ${parts.join(' ')}` : type;
}

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The backend under test and the versions its profile declares: "langgraph-postgres (@langchain/langgraph 1.7.3, …)". */
export function backendWithVersions(b: { name: string; versions: Readonly<Record<string, string>> }): string {
  const v = Object.entries(b.versions).map(([k, x]) => `${k} ${x}`).join(', ');
  return `${b.name}${v ? ` (${v})` : ''}`;
}
