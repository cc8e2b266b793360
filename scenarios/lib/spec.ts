/** Helpers scenarios share: the profile, seeded randomness, think time and plausible message text. */
import { setTimeout } from 'k6/timers';
export type { Profile, Safeguard, ScenarioSpec, ScenarioTopology } from './spec-types.ts';
import { PROFILES, type Profile } from './spec-types.ts';

/** The profile the harness asked for (it validates the name); ci when none is given, as under plain k6. */
export function profile(): Profile {
  const p = __ENV.STATEPROOF_PROFILE;
  return (PROFILES as readonly string[]).includes(p ?? '') ? (p as Profile) : 'ci';
}

/** The value for the running profile: every scenario states its sizes for each profile side by side. */
export function sized<T>(byProfile: Record<Profile, T>): T {
  return byProfile[profile()];
}

/** The store the harness started (redis, valkey or postgres); redis when it does not say. */
export function store(): string {
  return __ENV.STATEPROOF_STORE || 'redis';
}

/** A deterministic pseudo-random stream (the chaos layer's mulberry32), so a seed reproduces a run's content. */
export { seededRandom as seeded } from '../../src/base/random.ts';

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

/**
 * Think time that is over before the next request starts. k6's sleep() would do under real k6, but
 * the built-in engine defers a sleep into the VU's next request, and the history would then time
 * the wait as part of that request.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
