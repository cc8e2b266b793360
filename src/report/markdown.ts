/**
 * summary.md: what a reviewer needs in a PR comment or a CI step summary ($GITHUB_STEP_SUMMARY):
 * verdict, invariants with the first anomalies, latency per phase, faults and recovery.
 */
import { DASH, fmtBytes, fmtDuration, fmtInt, fmtMs, fmtNum, fmtPct, phaseLabel } from './format.ts';
import { decodeSnapshot, percentilesMs } from '../record/hdr.ts';
import { findSnapshot, phaseOrder, shownPhases } from './snapshots.ts';
import { proxyCostSentence } from './proxy-cost.ts';
import { hottestShard } from './capacity.ts';
import { errorRateNote } from './derive/refusals.ts';
import type { RunResult } from './result-schema.ts';
import { backendWithVersions } from './format.ts';
import { PARTIAL_NOTE, VERDICT_WORD, verdictKind } from './verdict.ts';
import { RUNNER_HEADERS, runnerRows, runnersSentence } from './runners.ts';

export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function mdTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const align = headers.map((h) => (h.endsWith('#') ? '---:' : '---'));
  const head = headers.map((h) => (h.endsWith('#') ? h.slice(0, -1).trimEnd() : h));
  return [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

export function renderSummaryMd(r: RunResult, opts: { headingLevel?: number } = {}): string {
  const h = '#'.repeat(opts.headingLevel ?? 2);
  const out: string[] = [];
  const kind = verdictKind(r.verdict);
  const icon = { pass: '✅', fail: '❌', interrupted: '⏹️' }[kind];
  out.push(`${h} ${icon} ${VERDICT_WORD[kind]} — ${r.scenario.name} (${r.scenario.profile})`);
  out.push('');
  out.push(
    `Run \`${r.runId}\` · ${fmtDuration(r.endedAtMs - r.startedAtMs)} · ${fmtInt(r.metrics.totals.count)} requests · ${fmtNum(r.metrics.throughputPerSec)} req/s · error rate ${fmtPct(r.metrics.errorRate)}${errorRateNote(r) ? ` (${errorRateNote(r)})` : ''}` +
      (r.scenario.backend ? ` · backend ${r.scenario.backend}` : ''),
  );
  if (r.verdict.reasons.length) {
    out.push('');
    for (const reason of r.verdict.reasons) out.push(`- ${reason}`);
  }
  if (r.proxyCost) {
    out.push('');
    out.push(proxyCostSentence(r.proxyCost));
  }
  if (r.runners) {
    out.push('', `${h}# Runners`, '', runnersSentence(r)!, '', mdTable(RUNNER_HEADERS, runnerRows(r.runners)));
  }
  out.push('');
  out.push(`${h}# Invariants`);
  out.push('');
  if (r.invariants.length === 0) out.push('No invariants were checked.');
  else {
    if (kind === 'interrupted') out.push(`Partial: ${PARTIAL_NOTE}.`, '');
    out.push(
      mdTable(
        ['Invariant', 'Result', 'Anomalies #', 'First anomaly'],
        r.invariants.map((i) => {
          const a = i.anomalies[0];
          return [
            i.name,
            `${i.holds ? 'holds' : '**violated**'}${i.partial ? ' (partial)' : ''}`,
            fmtInt(i.anomalies.length),
            a ? `${a.type}${a.session ? ` (${a.session})` : ''}: ${a.message} — ops ${a.ops.slice(0, 10).map((o) => `#${o}`).join(' ')}` : DASH,
          ];
        }),
      ),
    );
  }
  const phases = shownPhases(
    r.latency.histograms.filter((s) => s.op === 'all' && s.instance === 'all').map((s) => s.phase),
    r.timeline.map((t) => t.id),
  );
  if (phases.length) {
    out.push('');
    out.push(`${h}# Latency (ms, from intended start)`);
    out.push('');
    out.push(
      mdTable(
        ['Phase', 'Count #', 'p50 #', 'p90 #', 'p99 #', 'p99.9 #', 'Max #'],
        phases.map((phase) => {
          const s = findSnapshot(r.latency.histograms, { phase });
          const x = s && s.count > 0 ? percentilesMs(decodeSnapshot(s.snapshot)) : null;
          return [phaseLabel(phase), fmtInt(s?.count ?? 0), fmtMs(x?.p50Ms), fmtMs(x?.p90Ms), fmtMs(x?.p99Ms), fmtMs(x?.p999Ms), fmtMs(x?.maxMs)];
        }),
      ),
    );
  }
  if (r.faults.length) {
    out.push('');
    out.push(`${h}# Faults`);
    out.push('');
    const target = new Map(r.timeline.map((t) => [t.id, t]));
    out.push(
      mdTable(
        ['Fault', 'Target', 'Applied', 'Ops #', 'Error rate #', 'Degraded #', 'Sessions hit #', 'Time to recover'],
        r.faults.map((f) => [
          f.faultId,
          target.get(f.faultId)?.target ?? DASH,
          target.get(f.faultId)?.verified ? 'verified' : 'not verified',
          fmtInt(f.ops),
          fmtPct(f.errorRate),
          fmtInt(f.degraded),
          fmtInt(f.affectedSessions),
          f.recovered ? fmtDuration(f.timeToRecoverMs) : '**not recovered**',
        ]),
      ),
    );
  }
  if (r.thresholds.length) {
    out.push('');
    out.push(`${h}# Thresholds`);
    out.push('');
    out.push(mdTable(['Metric', 'Threshold', 'Observed', 'Result'], r.thresholds.map((t) => [t.metric, `\`${t.expression}\``, t.observed ?? DASH, t.ok ? 'met' : '**failed**'])));
  }
  if (r.capacity) {
    const c = r.capacity;
    out.push('');
    out.push(`${h}# Capacity`);
    out.push('');
    out.push(
      `Bytes/session p50 ${fmtBytes(c.measured.bytesPerSession.p50)}, p99 ${fmtBytes(c.measured.bytesPerSession.p99)}, max ${fmtBytes(c.measured.bytesPerSession.max)}; Redis used_memory/session ${fmtBytes(c.measured.usedMemoryPerSessionBytes)}.`,
    );
    if (c.projections.length) {
      out.push('');
      const sharded = c.projections.some((p) => p.hottestShardBytes != null);
      out.push(
        mdTable(
          ['Sessions #', 'Payload p99 #', 'Redis used_memory #', ...(sharded ? ['Hottest shard #'] : [])],
          c.projections.map((p) => [fmtInt(p.sessions), fmtBytes(p.payloadP99Bytes), fmtBytes(p.redisBytes), ...(sharded ? [fmtBytes(p.hottestShardBytes ?? null)] : [])]),
        ),
      );
      const hot = hottestShard(c);
      if (hot) out.push('', `Hottest shard: ${hot.node} (${hot.slots} slots) holds ${Math.round(hot.share * 100)} % of the sessions of ${hot.shards} shards.`);
    }
  }
  out.push('');
  out.push(`Full report: \`index.html\` in the run directory. Environment: Node ${r.environment.node}${r.environment.redis ? `, Redis ${r.environment.redis}` : ''}${backendLine(r.environment.backend)}, ${r.environment.cpus} cores${r.environment.gitCommit ? `, commit ${r.environment.gitCommit.slice(0, 12)}` : ''}.`);
  return out.join('\n') + '\n';
}

function backendLine(b: RunResult['environment']['backend']): string {
  return b ? `, backend ${backendWithVersions(b)}` : '';
}
