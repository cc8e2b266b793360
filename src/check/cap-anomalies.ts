import type { Anomaly } from './types.ts';

/** The first `cap` anomalies, then one that counts the rest: a report stays readable however broken the run. */
export function capAnomalies(anomalies: Anomaly[], cap: number): Anomaly[] {
  if (anomalies.length <= cap) return anomalies;
  const rest = anomalies.length - cap;
  return [...anomalies.slice(0, cap), { type: 'more', message: `${rest} more anomalies of this invariant not listed`, ops: [] }];
}
