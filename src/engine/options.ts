/**
 * From a script's `options` (and k6 CLI overrides) to the scenarios the engine runs, with k6's
 * defaults and k6's shortcut rules:
 *   iterations (± vus, duration as maxDuration) -> shared-iterations
 *   stages                                      -> ramping-vus
 *   duration                                    -> constant-vus
 *   nothing                                     -> 1 VU, 1 iteration
 * CLI --duration/--iterations replace options.scenarios, as `k6 run` does.
 */
import { UsageError } from '../base/errors.ts';
import { parseDurationMs } from './duration.ts';
import type { Tags } from './metrics/registry.ts';

export const EXECUTOR_DEFAULTS = Object.freeze({
  gracefulStopMs: 30_000,
  gracefulRampDownMs: 30_000,
  maxDurationMs: 600_000,
  timeUnitMs: 1000,
  setupTimeoutMs: 60_000,
  teardownTimeoutMs: 60_000,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
});

export type ExecutorName =
  | 'constant-vus'
  | 'ramping-vus'
  | 'constant-arrival-rate'
  | 'ramping-arrival-rate'
  | 'per-vu-iterations'
  | 'shared-iterations';

export interface Stage {
  durationMs: number;
  target: number;
}

export interface ScenarioConfig {
  name: string;
  executor: ExecutorName;
  exec: string;
  env: Record<string, string>;
  tags: Tags;
  startTimeMs: number;
  gracefulStopMs: number;
  vus: number;
  iterations: number;
  durationMs: number;
  maxDurationMs: number;
  startVUs: number;
  stages: Stage[];
  gracefulRampDownMs: number;
  rate: number;
  startRate: number;
  timeUnitMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
}

export interface CliOverrides {
  vus?: number;
  durationMs?: number;
  iterations?: number;
}

/** Options the engine honours; any other key fails fast, naming it (k6 would act on it). */
const KNOWN_OPTIONS = new Set([
  'scenarios', 'vus', 'duration', 'iterations', 'stages', 'thresholds', 'summaryTrendStats',
  'summaryTimeUnit', 'setupTimeout', 'teardownTimeout', 'tags', 'noColor', 'discardResponseBodies',
  'ext', 'cloud', 'userAgent', 'vusMax', 'minIterationDuration',
  'maxRedirects', 'insecureSkipTLSVerify', 'tlsVersion', 'tlsCipherSuites',
  'executionSegment', 'executionSegmentSequence',
]);

export function checkOptionKeys(options: Record<string, unknown>): void {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new UsageError(`options.${key} is not implemented by the built-in engine (run the script with real k6 via --k6 for it)`);
    }
  }
  if (options.minIterationDuration !== undefined) {
    throw new UsageError('options.minIterationDuration is not implemented by the built-in engine');
  }
}

export function resolveScenarios(options: Record<string, unknown>, cli: CliOverrides = {}): ScenarioConfig[] {
  const cliShortcut = cli.durationMs !== undefined || cli.iterations !== undefined;
  const vus = cli.vus ?? num(options.vus, 'options.vus');
  if (options.scenarios !== undefined && !cliShortcut) {
    if (typeof options.scenarios !== 'object' || options.scenarios === null) throw new UsageError('options.scenarios must be an object');
    const entries = Object.entries(options.scenarios as Record<string, unknown>);
    if (entries.length === 0) throw new UsageError('options.scenarios is empty');
    return entries.map(([name, raw]) => scenario(name, raw));
  }
  const iterations = cli.iterations ?? num(options.iterations, 'options.iterations');
  const durationMs = cli.durationMs ?? (options.duration !== undefined ? parseDurationMs(options.duration, 'options.duration') : undefined);
  const stages = cliShortcut ? undefined : options.stages;
  if (iterations !== undefined) {
    return [scenario('default', { executor: 'shared-iterations', vus: vus ?? 1, iterations, ...(durationMs !== undefined ? { maxDuration: durationMs } : {}) })];
  }
  if (stages !== undefined) return [scenario('default', { executor: 'ramping-vus', startVUs: vus ?? 1, stages })];
  if (durationMs !== undefined && durationMs > 0) return [scenario('default', { executor: 'constant-vus', vus: vus ?? 1, duration: durationMs })];
  return [scenario('default', { executor: 'shared-iterations', vus: vus ?? 1, iterations: vus ?? 1 })];
}

function scenario(name: string, raw: unknown): ScenarioConfig {
  if (typeof raw !== 'object' || raw === null) throw new UsageError(`scenarios.${name} must be an object`);
  const o = raw as Record<string, unknown>;
  const at = `scenarios.${name}`;
  const executor = o.executor;
  const supported: ExecutorName[] = ['constant-vus', 'ramping-vus', 'constant-arrival-rate', 'ramping-arrival-rate', 'per-vu-iterations', 'shared-iterations'];
  if (typeof executor !== 'string') throw new UsageError(`${at}.executor is required (one of ${supported.join(', ')})`);
  if (!supported.includes(executor as ExecutorName)) {
    throw new UsageError(`${at}: executor '${executor}' is not implemented by the built-in engine (supported: ${supported.join(', ')})`);
  }
  const dur = (key: string, def?: number): number => {
    if (o[key] === undefined) {
      if (def === undefined) throw new UsageError(`${at}.${key} is required for the ${executor} executor`);
      return def;
    }
    return parseDurationMs(o[key], `${at}.${key}`);
  };
  const int = (key: string, def?: number): number => {
    const v = num(o[key], `${at}.${key}`);
    if (v === undefined) {
      if (def === undefined) throw new UsageError(`${at}.${key} is required for the ${executor} executor`);
      return def;
    }
    return v;
  };
  const stages = (): Stage[] => {
    if (!Array.isArray(o.stages) || o.stages.length === 0) throw new UsageError(`${at}.stages must be a non-empty array of {duration, target}`);
    return o.stages.map((s: unknown, i: number) => {
      const st = s as { duration?: unknown; target?: unknown };
      const target = num(st.target, `${at}.stages[${i}].target`);
      if (target === undefined) throw new UsageError(`${at}.stages[${i}].target is required`);
      return { durationMs: parseDurationMs(st.duration, `${at}.stages[${i}].duration`), target };
    });
  };
  const base: ScenarioConfig = {
    name,
    executor: executor as ExecutorName,
    exec: typeof o.exec === 'string' ? o.exec : 'default',
    env: strings(o.env, `${at}.env`),
    tags: strings(o.tags, `${at}.tags`),
    startTimeMs: dur('startTime', 0),
    gracefulStopMs: dur('gracefulStop', EXECUTOR_DEFAULTS.gracefulStopMs),
    vus: 0, iterations: 0, durationMs: 0, maxDurationMs: 0, startVUs: 0, stages: [],
    gracefulRampDownMs: 0, rate: 0, startRate: 0, timeUnitMs: EXECUTOR_DEFAULTS.timeUnitMs,
    preAllocatedVUs: 0, maxVUs: 0,
  };
  // k6's Validate() for these executors: "the number of VUs should be more than 0". Zero VUs would
  // run nothing and pass.
  const vusAtLeastOne = (n: number): number => {
    if (n < 1) throw new UsageError(`${at}: vus must be at least 1, got ${n} (k6 refuses it too: "the number of VUs should be more than 0")`);
    return n;
  };
  switch (base.executor) {
    case 'constant-vus':
      return { ...base, vus: vusAtLeastOne(int('vus', 1)), durationMs: dur('duration') };
    case 'ramping-vus':
      return { ...base, startVUs: int('startVUs', 1), stages: stages(), gracefulRampDownMs: dur('gracefulRampDown', EXECUTOR_DEFAULTS.gracefulRampDownMs) };
    case 'per-vu-iterations':
    case 'shared-iterations': {
      const vus = vusAtLeastOne(int('vus', 1));
      const iterations = int('iterations', 1);
      if (base.executor === 'shared-iterations' && iterations < vus) {
        throw new UsageError(`${at}: iterations (${iterations}) must be at least vus (${vus}) for shared-iterations`);
      }
      return { ...base, vus, iterations, maxDurationMs: dur('maxDuration', EXECUTOR_DEFAULTS.maxDurationMs) };
    }
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      const preAllocatedVUs = int('preAllocatedVUs');
      const maxVUs = Math.max(preAllocatedVUs, int('maxVUs', preAllocatedVUs));
      const timeUnitMs = dur('timeUnit', EXECUTOR_DEFAULTS.timeUnitMs);
      if (base.executor === 'constant-arrival-rate') {
        return { ...base, rate: int('rate'), timeUnitMs, durationMs: dur('duration'), preAllocatedVUs, maxVUs };
      }
      return { ...base, startRate: int('startRate', 0), stages: stages(), timeUnitMs, preAllocatedVUs, maxVUs };
    }
  }
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UsageError(`${field}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return v;
}

function strings(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null) throw new UsageError(`${field} must be an object of strings`);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** Scheduled length without graceful stop (for progress totals). */
export function plannedDurationMs(s: ScenarioConfig): number {
  switch (s.executor) {
    case 'constant-vus':
    case 'constant-arrival-rate':
      return s.startTimeMs + s.durationMs;
    case 'ramping-vus':
    case 'ramping-arrival-rate':
      return s.startTimeMs + s.stages.reduce((a, x) => a + x.durationMs, 0);
    default:
      return s.startTimeMs + s.maxDurationMs;
  }
}
