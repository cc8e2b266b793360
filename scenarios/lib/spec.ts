/** Helpers scenarios share: the profile, seeded randomness and plausible message text. */
export type { Profile, Safeguard, ScenarioSpec, ScenarioTopology } from './spec-types.ts';
import type { Profile } from './spec-types.ts';

export function profile(): Profile {
  return __ENV.STATEPROOF_PROFILE === 'full' ? 'full' : 'ci';
}

/** A deterministic pseudo-random stream (mulberry32), so a seed reproduces a run's content. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the a session agent memory state redis window turn reply user context summary fact plan ticket order refund shipping account invoice latency budget store cache replica'.split(' ');

/** A message of about `bytes` characters of plausible chat text. */
export function message(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const w = WORDS[Math.floor(rand() * WORDS.length)]!;
    parts.push(w);
    length += w.length + 1;
  }
  return parts.join(' ').slice(0, bytes);
}
