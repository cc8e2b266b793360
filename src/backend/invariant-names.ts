/**
 * Every invariant name a profile may waive. Kept in one function so the profile does not depend on
 * where the checkers register their invariants.
 */
import { INVARIANTS } from '../check/options.ts';
import { SCENARIO_INVARIANTS } from '../run/scenario-invariants.ts';

export const CONTRACT_INVARIANTS = ['revision-per-turn', 'turn-order', 'tenant-isolation', 'no-unbounded-growth'] as const;

export function knownInvariantNames(): string[] {
  return [...Object.keys(INVARIANTS), ...SCENARIO_INVARIANTS, ...CONTRACT_INVARIANTS];
}
