/**
 * The runners section of a report (summary.md and index.html render the same rows): how many
 * runners there were, what each did, and what the sink refused. Absent when one process ran the load.
 */
import { DASH, fmtInt, isoUtc } from './format.ts';
import type { RunResult, RunnersResult } from './result-schema.ts';

export const RUNNER_HEADERS = ['Runner', 'Segment', 'Status', 'Requests #', 'Iterations #', 'History entries #', 'Batches #', 'Last batch'] as const;

export function runnerRows(rs: RunnersResult): string[][] {
  return rs.runners.map((x) => [
    x.id,
    x.segment ?? DASH,
    x.problem ? `${x.status}: ${x.problem}` : x.status,
    x.requests === null ? DASH : fmtInt(x.requests),
    x.iterations === null ? DASH : fmtInt(x.iterations),
    fmtInt(x.entries),
    fmtInt(x.batches),
    x.lastBatchAtMs === null ? 'never' : isoUtc(x.lastBatchAtMs),
  ]);
}

/** One line: how many runners, how many finished, and the sink's refusals (each a finding for the reader). */
export function runnersSentence(r: RunResult): string | undefined {
  const rs = r.runners;
  if (!rs) return undefined;
  const local = rs.runners.filter((x) => x.kind === 'local');
  const remote = rs.runners.filter((x) => x.kind === 'remote');
  const lost = local.filter((x) => x.status === 'died' || x.status === 'vanished');
  const parts = [
    local.length ? `${local.length} runner${local.length === 1 ? '' : 's'} split the load by execution segment${lost.length ? `; ${lost.length} did not finish (${lost.map((x) => `${x.id} ${x.status}`).join(', ')}), so the run is missing part of its load` : ', all finished and merged'}` : 'the load ran in this process',
    ...(remote.length ? [`${remote.length} remote runner${remote.length === 1 ? '' : 's'} posted history to the sink`] : []),
  ];
  const s = rs.sink;
  if (s) {
    const refused = Object.entries(s.rejected).filter(([, n]) => n > 0);
    parts.push(`the sink applied ${fmtInt(s.entries)} entries in ${fmtInt(s.batches)} batches${s.duplicateBatches ? ` (${fmtInt(s.duplicateBatches)} retried batches answered as duplicates, not applied twice)` : ''}`);
    if (refused.length) parts.push(`and refused ${refused.map(([k, n]) => `${fmtInt(n)} ${k}`).join(', ')} (${fmtInt(s.rejectedEntries)} entries not recorded)`);
  }
  return `${parts.join('; ')}.`;
}
