/** The scorecard on the terminal: one line per pair, the violations under it. */
import { besideReference, bytesText, countText, slopeText, turnsText } from './cells.ts';
import type { Scorecard } from './schema.ts';
import { UNREPRODUCED } from './repros.ts';

export function scorecardSummaryText(sc: Scorecard): string {
  const lines: string[] = [`scorecard (${sc.profile})${sc.interrupted ? ' — interrupted, partial' : ''}`];
  for (const p of sc.pairs) {
    const cells = sc.invariants.map((r) => ({ name: r.name, c: r.cells[p.id] })).filter((x) => x.c);
    const by = (s: string) => cells.filter((x) => x.c!.status === s).length;
    lines.push(
      `  ${p.id}: ${by('held')} held, ${by('violated')} violated, ${by('not-applicable')} n/a, ${by('waived')} waived, ${by('no-evidence')} no evidence${by('not-run') ? `, ${by('not-run')} not run` : ''}` +
        ` · lost ${countText(p.counts.lostWrites)}, duplicates ${countText(p.counts.duplicates)}, divergences ${countText(p.counts.divergences)}` +
        ` · ${bytesText(p)}, growth ${slopeText(p)} · ${turnsText(p)}${p.backend === 'reference' ? '' : ` (${besideReference(sc, p)})`}`,
    );
    for (const x of cells.filter((x) => x.c!.status === 'violated')) lines.push(`      VIOLATED ${x.name} ×${x.c!.count}${x.c!.firstOp ? `: first ${x.c!.firstOp.text} (${x.c!.firstOp.scenario})` : ''}${x.c!.repro ? ` · repro ${x.c!.repro.file}` : x.c!.unreproduced ? ` · ${UNREPRODUCED}` : ''}`);
    for (const r of p.runs.filter((r) => r.error)) lines.push(`      not run: ${r.scenario}: ${r.error}`);
  }
  for (const s of sc.skipped) lines.push(`  skipped ${s.backend}/${s.store}: ${s.reason}`);
  return lines.join('\n');
}
