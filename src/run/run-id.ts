/**
 * A run's id: it names reports/<run-id>/ and the history sink's path /runs/<run-id>/history, so
 * runners elsewhere (k6-operator pods written by `stateproof k8s --run-id`) can be pointed at a run
 * before it starts. An id the user fixes must be safe in both places, and must not reuse a
 * directory that already holds something: writing a run there would mix or overwrite it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { UsageError } from '../base/errors.ts';

export const RUN_ID_MAX = 100;
/** Letters, digits, '.', '_' and '-', starting with a letter or digit: a file name and a URL path segment as it is. */
export const RUN_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${RUN_ID_MAX - 1}}$`);

export function newRunId(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${scenario}-${Math.random().toString(36).slice(2, 6)}`;
}

/** --run-id as given, checked: a one-line UsageError saying what an id may hold. */
export function parseRunId(value: string, flag = '--run-id'): string {
  if (!RUN_ID_PATTERN.test(value)) {
    const why = value === '' ? 'it is empty' : value.length > RUN_ID_MAX ? `it has ${value.length} characters` : /^[._-]/.test(value) ? 'it starts with a symbol' : `'${[...value].find((c) => !/[A-Za-z0-9._-]/.test(c))}' is not allowed`;
    throw new UsageError(`${flag} must be 1 to ${RUN_ID_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit (it names the report directory and the sink's URL path); got '${value.length > 120 ? `${value.slice(0, 120)}…` : value}': ${why}`);
  }
  return value;
}

/** Refuses a run directory that already holds anything (an empty one is used). `shown` is the path as the user would write it. */
export function refuseUsedRunDir(runDir: string, runId: string, shown = runDir): void {
  if (!existsSync(runDir)) return;
  if (!statSync(runDir).isDirectory()) throw new UsageError(`--run-id ${runId}: ${shown} exists and is not a directory; pick another run id or --out`);
  if (readdirSync(runDir).length > 0) throw new UsageError(`--run-id ${runId}: ${shown} already holds a run; pick another run id, another --out, or move that directory away (nothing was started)`);
}
