/** Every invariant name a profile may waive: the checkers' registry. */
import { INVARIANTS } from '../check/invariants.ts';

export function knownInvariantNames(): string[] {
  return Object.keys(INVARIANTS);
}
