/**
 * A random fault plan from a seed: the same seed and targets give the same plan. Faults are
 * placed in consecutive slots of the run, so they never overlap and the plan always validates.
 */
import type { Fault, FaultPlan, PlanEntry } from './plan.ts';
import { STORE_TARGET } from './plan.ts';
import { randomInt, seededRandom, type Random } from '../src/base/random.ts';

export interface RandomPlanOptions {
  seed: number;
  /** Length of the run the plan covers, in ms. */
  runMs: number;
  /** How many faults. Default 3. */
  count?: number;
  proxies?: string[];
  store?: boolean;
  processes?: string[];
  /** Restrict to these fault types. Default: every type the targets allow except destructive ones (flushall, kill9). */
  types?: Fault['type'][];
}

const NETWORK: Array<(r: Random) => Fault> = [
  (r) => ({ type: 'latency', attributes: { latency: 50 + randomInt(r, 250), jitter: randomInt(r, 50) } }),
  (r) => ({ type: 'bandwidth', attributes: { rate: 10 + randomInt(r, 90) } }),
  (r) => ({ type: 'timeout', attributes: { timeout: randomInt(r, 2_000) } }),
  (r) => ({ type: 'reset_peer', attributes: { timeout: randomInt(r, 500) } }),
  (r) => ({ type: 'slicer', attributes: { average_size: 1 + randomInt(r, 64), size_variation: randomInt(r, 8), delay: randomInt(r, 1_000) } }),
  () => ({ type: 'down' }),
];
const STORE: Array<(r: Random) => Fault> = [() => ({ type: 'oom' }), () => ({ type: 'pause_writes' }), () => ({ type: 'stall' }), (r) => ({ type: 'redis_restart', hard: r() < 0.5 })];
const PROCESS: Array<(r: Random) => Fault> = [() => ({ type: 'sigstop' }), () => ({ type: 'restart' })];

export function randomPlan(opts: RandomPlanOptions): FaultPlan {
  const random = seededRandom(opts.seed);
  const count = opts.count ?? 3;
  const menu: Array<{ make: (r: Random) => Fault; targets: string[] }> = [];
  if (opts.proxies?.length) menu.push(...NETWORK.map((make) => ({ make, targets: opts.proxies! })));
  if (opts.store) menu.push(...STORE.map((make) => ({ make, targets: [STORE_TARGET] })));
  if (opts.processes?.length) menu.push(...PROCESS.map((make) => ({ make, targets: opts.processes! })));
  const allowed = opts.types;
  const slotMs = Math.floor(opts.runMs / Math.max(1, count));
  const faults: PlanEntry[] = [];
  for (let i = 0; i < count && menu.length; i++) {
    let choice = menu[randomInt(random, menu.length)]!;
    let fault = choice.make(random);
    for (let tries = 0; allowed && !allowed.includes(fault.type) && tries < 50; tries++) {
      choice = menu[randomInt(random, menu.length)]!;
      fault = choice.make(random);
    }
    if (allowed && !allowed.includes(fault.type)) break;
    const at = i * slotMs + randomInt(random, Math.floor(slotMs / 4) + 1);
    const duration = Math.max(1, Math.floor(slotMs / 4) + randomInt(random, Math.floor(slotMs / 4) + 1));
    faults.push({ id: `r${i}-${fault.type}`, at, duration, target: choice.targets[randomInt(random, choice.targets.length)]!, fault });
  }
  return { seed: opts.seed, faults };
}
