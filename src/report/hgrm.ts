/**
 * HdrHistogram's standard percentile-distribution text (.hgrm), as Java's
 * Histogram.outputPercentileDistribution(out, 5, 1000.0) prints it — the format HdrHistogram's
 * plotter and wrk2 read:
 *
 *        Value     Percentile TotalCount 1/(1-Percentile)
 *
 *        0.093 0.000000000000          1           1.00
 *        ...
 *      213.887 1.000000000000      20000
 *   #[Mean    =       11.250, StdDeviation   =        9.402]
 *   #[Max     =      213.887, Total count    =        20000]
 *   #[Buckets =           22, SubBuckets     =         2048]
 *
 * Values are milliseconds (histograms hold microseconds; the scaling ratio is 1000).
 */
import type { Histogram } from '../record/hdr.ts';
import { LatencyHistogram } from '../record/hdr.ts';

export const HGRM_TICKS_PER_HALF_DISTANCE = 5;
export const HGRM_SCALING_RATIO = 1000;

export function toHgrm(h: Histogram): string {
  return h.outputPercentileDistribution(HGRM_TICKS_PER_HALF_DISTANCE, HGRM_SCALING_RATIO);
}

export interface HgrmRow {
  valueMs: number;
  /** 0..1 */
  percentile: number;
  totalCount: number;
}

export interface ParsedHgrm {
  rows: HgrmRow[];
  meanMs: number;
  stdDeviationMs: number;
  maxMs: number;
  totalCount: number;
  buckets: number;
  subBuckets: number;
}

const NUM = String.raw`(-?[0-9.]+(?:[eE][-+]?\d+)?|NaN|Infinity)`;
const ROW = new RegExp(String.raw`^\s*${NUM}\s+${NUM}\s+(\d+)(?:\s+(\S+))?\s*$`);
const FOOTER = {
  mean: new RegExp(String.raw`^#\[Mean\s*=\s*${NUM},\s*StdDeviation\s*=\s*${NUM}\]`),
  max: new RegExp(String.raw`^#\[Max\s*=\s*${NUM},\s*Total count\s*=\s*(\d+)\]`),
  buckets: /^#\[Buckets\s*=\s*(\d+),\s*SubBuckets\s*=\s*(\d+)\]/,
};

export function parseHgrm(text: string): ParsedHgrm {
  const out: ParsedHgrm = { rows: [], meanMs: NaN, stdDeviationMs: NaN, maxMs: NaN, totalCount: 0, buckets: 0, subBuckets: 0 };
  const lines = text.split('\n');
  if (!/^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)\s*$/.test(lines[0] ?? '')) {
    throw new Error('not an .hgrm file: the first line must be the "Value Percentile TotalCount 1/(1-Percentile)" header');
  }
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (line === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = line.match(FOOTER.mean))) {
      out.meanMs = Number(m[1]);
      out.stdDeviationMs = Number(m[2]);
    } else if ((m = line.match(FOOTER.max))) {
      out.maxMs = Number(m[1]);
      out.totalCount = Number(m[2]);
    } else if ((m = line.match(FOOTER.buckets))) {
      out.buckets = Number(m[1]);
      out.subBuckets = Number(m[2]);
    } else if ((m = line.match(ROW))) {
      out.rows.push({ valueMs: Number(m[1]), percentile: Number(m[2]), totalCount: Number(m[3]) });
    } else {
      throw new Error(`unreadable .hgrm line: ${JSON.stringify(raw)}`);
    }
  }
  return out;
}

/**
 * Rebuild a histogram (microseconds) from .hgrm rows: each row's count increase is recorded at its
 * value. Row values are bucket upper bounds printed to the microsecond, so every listed percentile
 * reads back the same value.
 */
export function histogramFromHgrm(text: string): Histogram {
  const parsed = parseHgrm(text);
  const h = new LatencyHistogram();
  let prev = 0;
  for (const row of parsed.rows) {
    const delta = row.totalCount - prev;
    if (delta > 0) h.recordUsWithCount(Math.max(1, Math.round(row.valueMs * HGRM_SCALING_RATIO)), delta);
    prev = Math.max(prev, row.totalCount);
  }
  return h.histogram;
}
