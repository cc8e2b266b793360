/**
 * The fault stage: the scenario's plan started against what the topology lets it act on, and the
 * windows in which its faults were actually applied, for the checkers.
 */
import { runPlan, type FaultTimeline, type PlanRun } from '../../chaos/index.ts';
import { faultFamily } from '../../chaos/plan.ts';
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import type { FaultWindow } from '../check/index.ts';
import type { Topology } from '../topology/index.ts';

export interface StartedPlan {
  /** Absent when no fault is left to inject. */
  plan: PlanRun | undefined;
  /** Faults left out, each as "id (type on target)". */
  skipped: string[];
}

export function startFaultPlan(spec: ScenarioSpec | undefined, topology: Topology, opts: { seed?: number; signal: AbortSignal; log: (line: string) => void }): StartedPlan {
  const targets = topology.faultTargets();
  const { faults, skipped } = reachableFaults(spec?.plan.faults ?? [], targets, topology.provider === 'external');
  for (const s of skipped) opts.log(`stateproof: skipping fault ${s}: this backend gives no access to its target (see --toxiproxy-url, --redis-url)`);
  const plan = faults.length ? runPlan({ ...spec!.plan, faults, seed: opts.seed ?? spec!.plan.seed }, targets, { signal: opts.signal }) : undefined;
  return { plan, skipped };
}

/**
 * On an external backend, the faults whose target the user gave no access to are left out (and
 * said so); on a topology the harness started, every target exists and a bad one is a plan error.
 */
function reachableFaults(faults: Array<Record<string, unknown>>, targets: ReturnType<Topology['faultTargets']>, external: boolean): { faults: Array<Record<string, unknown>>; skipped: string[] } {
  if (!external) return { faults, skipped: [] };
  const kept: Array<Record<string, unknown>> = [];
  const skipped: string[] = [];
  for (const [i, f] of faults.entries()) {
    const type = String((f.fault as { type?: unknown } | undefined)?.type);
    const target = String(f.target);
    const family = faultFamily(type);
    const reachable =
      family === 'network' ? (targets.proxies ?? []).includes(target) : family === 'store' ? targets.redis !== undefined : target.split(',').every((p) => targets.processes?.[p.trim()] !== undefined);
    if (reachable) kept.push(f);
    else skipped.push(`${String(f.id ?? `f${i}`)} (${type} on ${target})`);
  }
  return { faults: kept, skipped };
}

/** The network and store faults that were applied, each until it was undone (or the load ended). */
export function faultWindowsOf(timeline: FaultTimeline, endedAtMs: number): FaultWindow[] {
  return timeline
    .filter((t) => t.actualStartMs > 0 && faultFamily(t.fault.type) !== 'process')
    .map((t) => ({ id: t.id, family: faultFamily(t.fault.type), startMs: t.actualStartMs, endMs: t.actualEndMs || endedAtMs }));
}
