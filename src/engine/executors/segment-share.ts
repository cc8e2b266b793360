/**
 * What one execution segment runs of each executor, as k6 v1.3.0's lib/executor computes it from
 * the ExecutionTuple. ScenarioConfig stays what the script declares; the executors ask here for
 * their share:
 *
 *   executor               VUs                         iterations / arrivals               iteration indexes from
 *   constant-vus           scale(vus)                  as many as they loop                the runner's tuple
 *   per-vu-iterations      scale(vus)                  iterations per VU, unscaled         the runner's tuple
 *   shared-iterations      scale(vus)                  tuple re-segmented by vus,          the re-segmented tuple
 *                                                      scale(iterations)
 *   ramping-vus            steps of the striped VU     as many as they loop                the runner's tuple
 *                          index (getRawExecutionSteps)
 *   constant-/ramping-     scale(preAllocatedVUs) ..   the global arrival schedule, only   the tuple re-segmented
 *   arrival-rate           scale(maxVUs)               the striped indexes of the tuple    by maxVUs
 *                                                      re-segmented by maxVUs
 *
 * Re-segmenting by VUs (GetNewExecutionTupleFromValue) is why a segment's share of iterations
 * follows its share of VUs, not its length: 0:1/3 of 7 VUs holds 3 of them and 3/7 of the work.
 */
import { ExecutionTuple, SegmentedIndex } from '../execution-segment.ts';
import type { ScenarioConfig } from '../options.ts';

const NS_PER_MS = 1e6;

/** k6's HasWork: a scenario with no share for this segment is not run at all. */
export function hasWork(c: ScenarioConfig, t: ExecutionTuple): boolean {
  switch (c.executor) {
    case 'constant-vus':
      return t.scaleInt64(c.vus) > 0;
    case 'per-vu-iterations':
      return t.scaleInt64(c.vus) > 0 && c.iterations > 0;
    case 'shared-iterations':
      return t.scaleInt64(c.vus) > 0 && sharedIterationsOf(c, t) > 0;
    case 'ramping-vus':
      return maxVUsOf(c, t) > 0;
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return t.scaleInt64(c.maxVUs) > 0;
  }
}

/**
 * The VUs this segment initialises for the scenario before the test starts, as k6 plans them
 * (arrival-rate: preAllocatedVUs; more may follow during the run, up to maxVUsOf).
 */
export function vusOf(c: ScenarioConfig, t: ExecutionTuple): number {
  switch (c.executor) {
    case 'constant-vus':
    case 'per-vu-iterations':
    case 'shared-iterations':
      return t.scaleInt64(c.vus);
    case 'ramping-vus':
      return maxVUsOf(c, t);
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return t.scaleInt64(c.preAllocatedVUs);
  }
}

/** The most VUs the scenario may hold in this segment. */
export function maxVUsOf(c: ScenarioConfig, t: ExecutionTuple): number {
  switch (c.executor) {
    case 'ramping-vus':
      return Math.max(0, ...rampingVuSteps(c, t).map((s) => s.vus));
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return Math.max(t.scaleInt64(c.preAllocatedVUs), t.scaleInt64(c.maxVUs));
    default:
      return vusOf(c, t);
  }
}

/** SharedIterationsConfig.GetIterations: 0 when this segment holds none of the VUs. */
export function sharedIterationsOf(c: ScenarioConfig, t: ExecutionTuple): number {
  if (t.scaleInt64(c.vus) < 1) return 0;
  return t.fromValue(c.vus).scaleInt64(c.iterations);
}

/** The tuple whose striping numbers this scenario's iterations (k6's iterSegIndex). */
export function iterationTuple(c: ScenarioConfig, t: ExecutionTuple): ExecutionTuple {
  switch (c.executor) {
    case 'shared-iterations':
      return t.fromValue(c.vus);
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return t.fromValue(c.maxVUs);
    default:
      return t;
  }
}

export function iterationIndex(c: ScenarioConfig, t: ExecutionTuple): SegmentedIndex {
  return SegmentedIndex.of(iterationTuple(c, t));
}

export interface VuStep {
  atMs: number;
  vus: number;
}

/**
 * RampingVUsConfig.getRawExecutionSteps(et, zeroEnd=false): when this segment's planned VU count
 * changes. Each of its VUs follows the global ramp at its own unscaled index, so the segments'
 * counts add up to the unsegmented ramp at every instant. Times are k6's integer nanoseconds.
 */
export function rampingVuSteps(c: ScenarioConfig, t: ExecutionTuple): VuStep[] {
  const index = SegmentedIndex.of(t);
  let fromVUs = c.startVUs;
  let timeTillEndNs = 0n;
  let [scaled, unscaled] = index.goTo(fromVUs);
  const steps: Array<{ ns: bigint; vus: number }> = [{ ns: 0n, vus: scaled }];
  const addStep = (ns: bigint, vus: number) => {
    if (steps[steps.length - 1]!.vus !== vus) steps.push({ ns, vus });
  };
  for (const stage of c.stages) {
    const stageEnd = stage.target;
    const durNs = BigInt(Math.round(stage.durationMs * NS_PER_MS));
    timeTillEndNs += durNs;
    const diff = stageEnd - fromVUs;
    if (diff === 0) continue;
    if (durNs === 0n) {
      [scaled, unscaled] = index.goTo(stageEnd);
      addStep(timeTillEndNs, scaled);
      fromVUs = stageEnd;
      continue;
    }
    // Go's int64 division truncates toward zero, as bigint division does.
    if (unscaled > stageEnd) {
      for (; unscaled > stageEnd; [scaled, unscaled] = index.prev()) {
        addStep(timeTillEndNs - (durNs * BigInt(stageEnd - unscaled + 1)) / BigInt(diff), scaled - 1);
      }
    } else {
      for (; unscaled <= stageEnd; [scaled, unscaled] = index.next()) {
        addStep(timeTillEndNs - (durNs * BigInt(stageEnd - unscaled)) / BigInt(diff), scaled);
      }
    }
    fromVUs = stageEnd;
  }
  return steps.map((s) => ({ atMs: Number(s.ns) / NS_PER_MS, vus: s.vus }));
}

/** The planned VU count at `tMs` from the steps (the last step at or before it). */
export function vusAtStep(steps: readonly VuStep[], tMs: number): number {
  let n = 0;
  for (const s of steps) {
    if (s.atMs > tMs) break;
    n = s.vus;
  }
  return n;
}
