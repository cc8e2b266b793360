/**
 * The router's routing policies: which instance a request goes to next. Pure over instance
 * indices, so every policy can be checked without a socket; what "usable" means (up, not yet
 * tried for this request) is the caller's.
 */
import { HashRing } from './hash-ring.ts';
import { seededRandom } from '../base/random.ts';

export const ROUTER_POLICIES = ['sticky', 'round-robin', 'random'] as const;
export type RouterPolicy = (typeof ROUTER_POLICIES)[number];

export interface Picker {
  /** The index of the instance to try next, or -1 when no instance is usable. */
  pick(sessionId: string | undefined, usable: (index: number) => boolean): number;
  /** The ring owner of a session among instances `isUp` accepts, whatever the policy; -1 when none. */
  owner(sessionId: string, isUp: (index: number) => boolean): number;
}

/**
 * sticky: a session's requests go to its owner on the consistent hash ring (the next usable one
 * when it is not); requests without a session go round-robin. round-robin: in turn over all
 * instances, skipping unusable ones, so the spread stays even. random: uniform over the usable
 * ones, from `seed`, so a run can be reproduced.
 */
export function createPicker(policy: RouterPolicy, instanceIds: readonly string[], seed: number): Picker {
  const ring = new HashRing(instanceIds);
  const count = instanceIds.length;
  const random = seededRandom(seed);
  let cursor = 0;

  const roundRobin = (usable: (index: number) => boolean): number => {
    for (let step = 0; step < count; step++) {
      const i = (cursor + step) % count;
      if (usable(i)) {
        cursor += step + 1;
        return i;
      }
    }
    return -1;
  };

  const uniform = (usable: (index: number) => boolean): number => {
    const candidates: number[] = [];
    for (let i = 0; i < count; i++) if (usable(i)) candidates.push(i);
    if (candidates.length === 0) return -1;
    return candidates[Math.floor(random() * candidates.length)]!;
  };

  return {
    pick(sessionId, usable) {
      if (policy === 'sticky' && sessionId !== undefined) return ring.lookup(sessionId, usable);
      return policy === 'random' ? uniform(usable) : roundRobin(usable);
    },
    owner: (sessionId, isUp) => ring.lookup(sessionId, isUp),
  };
}
