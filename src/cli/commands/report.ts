/** `stateproof report <run-dir>`: re-render every output of a run from its result.json alone. */
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { loadRun } from '../../report/load.ts';
import { HISTORY_FILE, writeReports } from '../../report/write.ts';
import { VERDICT_WORD, verdictKind } from '../../report/verdict.ts';

export const help = `Usage: stateproof report <run-dir> [--out <dir>]

Re-renders index.html, summary.md, junit.xml, result.json and latency/*.hgrm from the run's
result.json alone. The output is byte-identical for the same result.json (no render timestamps).

Options:
  --out <dir>   write the reports there instead of into <run-dir> (history.json is copied along)

Examples:
  stateproof report reports/20261201T220002Z-store-outage-rbql
  stateproof report reports/20261201T220002Z-store-outage-rbql --out /tmp/rerendered
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one run directory, got ${positionals.length}. Usage: stateproof report <run-dir> [--out <dir>]`);
  const { dir, result } = await loadRun(positionals[0]!);
  const outDir = values.out ? path.resolve(values.out) : dir;
  const written = await writeReports(result, outDir);
  if (path.resolve(outDir) !== path.resolve(dir) && (await stat(path.join(dir, HISTORY_FILE)).catch(() => null))) {
    await copyFile(path.join(dir, HISTORY_FILE), path.join(outDir, HISTORY_FILE));
    written.push(HISTORY_FILE);
  }
  process.stdout.write(`${VERDICT_WORD[verdictKind(result.verdict)]} ${result.scenario.name} (${result.runId}): wrote ${written.length} files to ${outDir}\n  ${path.join(outDir, 'index.html')}\n`);
  return 0;
}
