/**
 * `--vus`, `--duration` and `--rate` for any scenario: applied to each of the script's own
 * executors, so a scenario keeps its shape (its scenarios, their start times, exec functions and
 * ramps) and only its size changes. k6's own --vus/--duration replace options.scenarios with one
 * default scenario; a stateproof scenario's several executors (a grow and an expire phase, say)
 * would be lost that way, so these scale instead:
 *
 *   executor               --vus N                         --duration D              --rate R (per second)
 *   constant-vus           vus = N                         duration = D              refused: a closed model
 *   ramping-vus            stages rescaled to peak N       stages rescaled to sum D  refused
 *   per-vu-iterations      vus = N                         maxDuration = D           refused
 *   shared-iterations      vus = N (iterations >= N)       maxDuration = D           refused
 *   constant-arrival-rate  preAllocatedVUs = maxVUs = N    duration = D              rate = R per 1s
 *   ramping-arrival-rate   preAllocatedVUs = maxVUs = N    stages rescaled to sum D  stages rescaled to peak R
 *
 * A closed-model executor's rate is whatever its VUs achieve; --rate on a script with no
 * arrival-rate executor is a usage error that says to use --vus.
 */
import { UsageError } from '../base/errors.ts';
import type { ScenarioConfig, Stage } from './options.ts';

export interface LoadOverrides {
  vus?: number;
  durationMs?: number;
  /** Iterations started per second, for arrival-rate executors. */
  ratePerSecond?: number;
}

export function hasLoadOverrides(o: LoadOverrides | undefined): o is LoadOverrides {
  return o !== undefined && (o.vus !== undefined || o.durationMs !== undefined || o.ratePerSecond !== undefined);
}

export function validateLoadOverrides(o: LoadOverrides): void {
  if (o.vus !== undefined && !(Number.isInteger(o.vus) && o.vus >= 1)) throw new UsageError(`--vus must be a whole number of VUs >= 1, got ${o.vus}`);
  if (o.durationMs !== undefined && !(Number.isFinite(o.durationMs) && o.durationMs > 0)) throw new UsageError(`--duration must be longer than 0, got ${o.durationMs} ms`);
  if (o.ratePerSecond !== undefined && !(Number.isFinite(o.ratePerSecond) && o.ratePerSecond > 0)) {
    throw new UsageError(`--rate must be a number of iterations per second > 0, got ${o.ratePerSecond}`);
  }
}

export function applyLoadOverrides(configs: readonly ScenarioConfig[], o: LoadOverrides): ScenarioConfig[] {
  validateLoadOverrides(o);
  const isOpen = (c: ScenarioConfig) => c.executor === 'constant-arrival-rate' || c.executor === 'ramping-arrival-rate';
  if (o.ratePerSecond !== undefined && !configs.some(isOpen)) {
    const used = configs.map((c) => `${c.name} (${c.executor})`).join(', ');
    throw new UsageError(`--rate sets arrival-rate executors, and this script has none: ${used}. Its load is set by its VUs: use --vus`);
  }
  return configs.map((c) => withOverrides(c, o));
}

function withOverrides(c: ScenarioConfig, o: LoadOverrides): ScenarioConfig {
  const out: ScenarioConfig = { ...c, stages: c.stages.map((s) => ({ ...s })) };
  const vus = o.vus;
  switch (c.executor) {
    case 'constant-vus':
      if (vus !== undefined) out.vus = vus;
      if (o.durationMs !== undefined) out.durationMs = o.durationMs;
      break;
    case 'ramping-vus':
      if (vus !== undefined) {
        const peak = Math.max(c.startVUs, ...c.stages.map((s) => s.target));
        const scale = (x: number) => (peak === 0 ? vus : Math.round((x * vus) / peak));
        out.startVUs = scale(c.startVUs);
        out.stages = out.stages.map((s) => ({ ...s, target: scale(s.target) }));
      }
      if (o.durationMs !== undefined) out.stages = rescaleDurations(out.stages, o.durationMs);
      break;
    case 'per-vu-iterations':
    case 'shared-iterations':
      if (vus !== undefined) {
        out.vus = vus;
        if (c.executor === 'shared-iterations') out.iterations = Math.max(c.iterations, vus);
      }
      if (o.durationMs !== undefined) out.maxDurationMs = o.durationMs;
      break;
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      if (vus !== undefined) {
        out.preAllocatedVUs = vus;
        out.maxVUs = vus;
      }
      if (c.executor === 'constant-arrival-rate') {
        if (o.durationMs !== undefined) out.durationMs = o.durationMs;
        if (o.ratePerSecond !== undefined) {
          out.rate = o.ratePerSecond;
          out.timeUnitMs = 1000;
        }
      } else {
        if (o.durationMs !== undefined) out.stages = rescaleDurations(out.stages, o.durationMs);
        if (o.ratePerSecond !== undefined) {
          const perSecond = 1000 / c.timeUnitMs;
          const peak = Math.max(c.startRate, ...c.stages.map((s) => s.target)) * perSecond;
          const scale = (x: number) => (peak === 0 ? o.ratePerSecond! : (x * perSecond * o.ratePerSecond!) / peak);
          out.startRate = scale(c.startRate);
          out.stages = out.stages.map((s) => ({ ...s, target: scale(s.target) }));
          out.timeUnitMs = 1000;
        }
      }
      break;
  }
  return out;
}

/** The same ramp, stretched or shrunk to last `totalMs`. */
function rescaleDurations(stages: Stage[], totalMs: number): Stage[] {
  const sum = stages.reduce((a, s) => a + s.durationMs, 0);
  if (sum === 0) return stages.map((s, i) => ({ ...s, durationMs: i === stages.length - 1 ? totalMs : 0 }));
  return stages.map((s) => ({ ...s, durationMs: (s.durationMs * totalMs) / sum }));
}
