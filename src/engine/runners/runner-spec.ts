/**
 * What the run hands each runner process it starts, and what a runner says back over IPC.
 * Execution segments are written as k6 writes them: "0:1/3", "1/3:2/3", "2/3:1".
 */
import type { LoadOverrides } from '../load-overrides.ts';
import type { Progress } from '../types.ts';

export interface RunnerSpec {
  id: string;
  /** This runner's execution segment, and the sequence all of them come from. */
  segment: string;
  sequence: string;
  scriptPath: string;
  env: Record<string, string>;
  vus?: number;
  duration?: string | number;
  iterations?: number;
  load?: LoadOverrides;
  /** The sink: where history and the final metrics go, with the run's token. */
  url: string;
  metricsUrl: string;
  token: string;
}

export type RunnerMessage = { type: 'alive' } | { type: 'progress'; progress: Progress };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** i/n as k6 writes a fraction: 0, 1, or reduced p/q. */
export function fraction(i: number, n: number): string {
  if (i === 0) return '0';
  if (i === n) return '1';
  const g = gcd(i, n);
  return `${i / g}/${n / g}`;
}

/** The N equal segments k6-operator's parallelism: N gives its pods, and their sequence. */
export function equalSegments(n: number): { segments: string[]; sequence: string } {
  const points = Array.from({ length: n + 1 }, (_, i) => fraction(i, n));
  return { segments: points.slice(0, -1).map((p, i) => `${p}:${points[i + 1]}`), sequence: points.join(',') };
}
