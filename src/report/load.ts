/** Reading a run directory's result.json, with errors a user can act on. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../base/errors.ts';
import { checkResult, type RunResult } from './result-schema.ts';
import { RESULT_FILE } from './write.ts';

/** Accepts a run directory or a path to its result.json. */
export async function loadRun(dirOrFile: string): Promise<{ dir: string; result: RunResult }> {
  let file = dirOrFile;
  const st = await stat(dirOrFile).catch(() => null);
  if (!st) throw new UsageError(`'${dirOrFile}' does not exist. Pass a run directory written by 'stateproof run' (reports/<run-id>/).`);
  if (st.isDirectory()) file = path.join(dirOrFile, RESULT_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) throw new UsageError(`no ${RESULT_FILE} in '${dirOrFile}'. Pass a run directory written by 'stateproof run' (reports/<run-id>/).`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON (${(e as Error).message}).`);
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== undefined && version !== 1) {
    throw new UsageError(`${file} has schemaVersion ${JSON.stringify(version)}; this stateproof reads version 1. Re-render it with the stateproof version that wrote it.`);
  }
  const checked = checkResult(json);
  if (!checked.ok) {
    throw new UsageError(`${file} does not match the result schema (v1):\n  ${checked.problems.slice(0, 10).join('\n  ')}${checked.problems.length > 10 ? `\n  ... ${checked.problems.length - 10} more` : ''}`);
  }
  return { dir: path.dirname(file), result: checked.result };
}
