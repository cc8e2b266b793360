/**
 * Paths as the user will recognise them: a report under an --out they gave as an absolute path is
 * printed absolute (`/tmp/ci/…`, not `../../tmp/ci/…`); under a relative or default --out, relative
 * to where they ran the command.
 */
import path from 'node:path';

export function shownPath(p: string, givenOut: string | undefined, cwd = process.cwd()): string {
  if (givenOut !== undefined && path.isAbsolute(givenOut)) return p;
  return path.relative(cwd, p) || '.';
}
