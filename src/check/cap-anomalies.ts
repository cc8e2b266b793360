import type { Anomaly } from './types.ts';

/** The first `cap` anomalies, then one that counts the rest: a report stays readable however broken the run. */
export function capAnomalies(anomalies: Anomaly[], cap: number): Anomaly[] {
  if (anomalies.length <= cap) return anomalies;
  const rest = anomalies.length - cap;
  return [...anomalies.slice(0, cap), { type: 'more', message: `${rest} more anomalies of this invariant not listed`, ops: [] }];
}

/** How many anomalies a capped list stands for: the listed ones plus the rest its last entry counts. */
export function anomalyCount(anomalies: readonly Anomaly[]): number {
  let n = 0;
  for (const a of anomalies) {
    const rest = a.type === 'more' ? /^(\d+) more anomalies/.exec(a.message) : null;
    n += rest ? Number(rest[1]) : 1;
  }
  return n;
}
