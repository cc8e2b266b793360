/**
 * Whether N runners make sense for this script: each runner's segment must hold at least one VU
 * of some scenario, or it would start, do nothing and still count as a runner. Read from the
 * script's options as the engine would resolve them (overrides applied), without running it.
 */
import { UsageError } from '../../base/errors.ts';
import { readInitExports } from '../init-exports.ts';
import { parseDurationMs } from '../duration.ts';
import { ExecutionTuple } from '../execution-segment.ts';
import { maxVUsOf } from '../executors/segment-share.ts';
import { applyLoadOverrides, hasLoadOverrides } from '../load-overrides.ts';
import { resolveScenarios } from '../options.ts';
import type { RunScriptOptions } from '../types.ts';
import { equalSegments } from './runner-spec.ts';

/** Throws a one-line UsageError when some of the N segments would have no VU. */
export async function checkRunnerCount(opts: RunScriptOptions, n: number): Promise<void> {
  if (n === 1) return;
  const exports = await readInitExports(opts.scriptPath, opts.env ?? {}, ['options']);
  const options = (exports.options ?? {}) as Record<string, unknown>;
  let configs;
  try {
    const declared = resolveScenarios(JSON.parse(JSON.stringify(options)) as Record<string, unknown>, {
      vus: opts.vus,
      iterations: opts.iterations,
      durationMs: opts.duration === undefined ? undefined : parseDurationMs(opts.duration, '--duration'),
    });
    configs = hasLoadOverrides(opts.load) ? applyLoadOverrides(declared, opts.load) : declared;
  } catch {
    // Options computed at run time (or invalid ones): the engine itself will say what is wrong.
    return;
  }
  const idleOf = (m: number) => {
    const { segments, sequence } = equalSegments(m);
    return segments.filter((seg) => configs.every((c) => maxVUsOf(c, ExecutionTuple.parse(seg, sequence)) === 0)).length;
  };
  const idle = idleOf(n);
  if (idle === 0) return;
  const whole = configs.reduce((a, c) => a + maxVUsOf(c, ExecutionTuple.full()), 0);
  // The largest count below n that gives every runner work (segments stripe VUs, so not always `whole`).
  let fits = Math.min(n - 1, whole);
  while (fits > 1 && idleOf(fits) > 0) fits--;
  throw new UsageError(`--runners ${n}: the scenario runs at most ${whole} VU${whole === 1 ? '' : 's'}, so ${idle} runner${idle === 1 ? ' would have' : 's would have'} no VU; use --runners ${fits} or fewer (or more --vus)`);
}
