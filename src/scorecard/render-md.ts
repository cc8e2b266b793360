/** scorecard.md: the scorecard as Markdown tables (for a PR comment, a CI step summary, the README). */
import { DASH, fmtBytes, fmtDuration } from '../report/format.ts';
import { mdTable } from '../report/markdown.ts';
import { besideReference, bytesText, countText, faultBlast, faultP99, faultRecovery, invariantDetail, invariantHeadline, pairVersions, slopeText, turnsText } from './cells.ts';
import type { Scorecard } from './schema.ts';
import { UNREPRODUCED } from './repros.ts';

const link = (text: string, href: string | undefined) => (href ? `[${text}](${href})` : text);

export function renderScorecardMd(sc: Scorecard): string {
  const ids = sc.pairs.map((p) => p.id);
  const out: string[] = [];
  out.push(`## stateproof scorecard (${sc.profile})${sc.interrupted ? ' — interrupted, partial' : ''}`, '');
  out.push(`\`stateproof ${sc.command.join(' ')}\` · ${sc.createdAt} · ${fmtDuration(sc.wallMs)} · stateproof ${sc.stateproof.version}${sc.stateproof.gitCommit ? ` (${sc.stateproof.gitCommit.slice(0, 10)})` : ''}`);
  out.push(`Machine: ${sc.machine.os} ${sc.machine.arch}, ${sc.machine.cpus} × ${sc.machine.cpuModel ?? 'CPU'}, ${fmtBytes(sc.machine.memoryBytes)}${sc.machine.loadAverage ? `, load average ${sc.machine.loadAverage.start} → ${sc.machine.loadAverage.end}` : ''}, Node ${sc.machine.node}. Scenarios: ${sc.scenarios.join(', ')}.`, '');

  out.push('### Backends', '');
  out.push(mdTable(['Backend / store', 'Versions', 'Runs'], sc.pairs.map((p) => [p.id, pairVersions(p), p.runs.map((r) => link(`${r.scenario}${r.refused ? ' (n/a: cannot run on this backend)' : r.error ? ` (not run: ${r.error})` : r.pass ? '' : ' (fail)'}`, r.href)).join(', ')])));
  for (const s of sc.skipped) out.push(`- skipped ${s.backend}/${s.store}: ${s.reason}`);
  out.push('');

  out.push('### Invariants', '');
  out.push(
    mdTable(
      ['Invariant', ...ids],
      sc.invariants.map((row) => [
        row.name,
        ...ids.map((id) => {
          const c = row.cells[id];
          if (!c) return DASH;
          const head = link(c.status === 'violated' ? `**${invariantHeadline(c)}**` : invariantHeadline(c), c.href);
          const first = c.firstOp ? ` first ${link(`op #${c.firstOp.id}`, c.firstOp.href)} (${c.firstOp.scenario})` : '';
          const repro = c.repro ? ` · ${link('repro', c.repro.href)}` : c.unreproduced ? ` · ${UNREPRODUCED}` : '';
          const why = c.status === 'not-applicable' || c.status === 'waived' || c.status === 'no-evidence' || c.status === 'not-run' ? (c.reason ? `: ${c.reason}` : '') : '';
          return `${head}${first}${repro}${why}`;
        }),
      ]),
    ),
    '',
  );

  out.push('### Lost acknowledged writes, duplicates, divergences', '');
  out.push(
    mdTable(
      ['Count', ...ids.map((id) => `${id} #`)],
      [
        ['lost acknowledged writes', ...sc.pairs.map((p) => countText(p.counts.lostWrites))],
        ['duplicates', ...sc.pairs.map((p) => countText(p.counts.duplicates))],
        ['divergences', ...sc.pairs.map((p) => countText(p.counts.divergences))],
      ],
    ),
    '',
  );

  if (sc.faults.length) {
    out.push('### Faults: blast radius, p99 during the fault, time to recover', '');
    out.push(
      mdTable(
        ['Scenario · fault', ...ids],
        sc.faults.map((f) => [`${f.scenario} · ${f.faultId}`, ...ids.map((id) => {
          const c = f.cells[id];
          return c ? link(`${c.fault}: ${faultBlast(c)}; ${faultP99(c)}; ${faultRecovery(c)}${c.verified ? '' : ' (not verified as applied)'}`, c.href) : DASH;
        })]),
      ),
      '',
    );
  }

  out.push('### Session state and throughput', '');
  out.push(
    mdTable(
      ['Backend / store', 'Bytes per session', 'Growth once the window is full', 'Turns/s without faults', 'Beside the reference'],
      sc.pairs.map((p) => [p.id, link(bytesText(p), p.bytes?.href), slopeText(p), link(turnsText(p), p.throughput?.href), besideReference(sc, p)]),
    ),
  );
  if (sc.throughputMethod) out.push('', `Turns/s: ${sc.throughputMethod}`);
  const src = sc.pairs.find((p) => p.bytes)?.bytes?.source;
  if (src) out.push('', `Bytes per session: ${src}.`);
  for (const n of sc.notes) out.push('', n);
  return out.join('\n') + '\n';
}
