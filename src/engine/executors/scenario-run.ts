/**
 * One scenario while it runs: which VUs it holds, its iteration counter (k6's
 * scenario.iterationInTest), and the stop rules every executor shares: no new iterations after the
 * end of its duration, a graceful-stop window for running ones, then a hard interrupt.
 */
import { sleepUnlessAborted, type Clock } from '../../base/clock.ts';
import { ExecutionTuple, type SegmentedIndex } from '../execution-segment.ts';
import type { ScenarioConfig } from '../options.ts';
import type { TestRun } from '../test-run.ts';
import type { VuScenario } from '../types.ts';
import type { VU } from '../vu.ts';
import { iterationIndex, iterationTuple } from './segment-share.ts';

export interface VuSource {
  /** A free initialised VU, or a new one when `create` is true (k6 initialises them up front). */
  acquire(create: boolean): VU | undefined;
  release(vu: VU): void;
}

export class ScenarioRun implements VuScenario {
  readonly openModel: boolean;
  /** Global tags, the scenario's tags and its name: the start of every sample's tags in it. */
  readonly baseTags: Record<string, string>;
  startedAtMs = 0;
  iterationsStarted = 0;
  droppedIterations = 0;
  readonly active = new Set<VU>();
  private readonly holding = new Set<VU>();
  private progressFn: () => number = () => 0;
  /** Called when a VU joins this scenario (e.g. to merge the scenario's env into its __ENV). */
  onTake: ((vu: VU) => void) | undefined;
  /** The tuple this scenario's iteration indexes are striped by (segment-share.ts). */
  readonly iterationTuple: ExecutionTuple;
  /** k6's iterSegIndex: local (scaled) and global (unscaled) iteration numbers. */
  private readonly counters: SegmentedIndex;

  constructor(
    readonly config: ScenarioConfig,
    readonly run: TestRun,
    private readonly vus: VuSource,
    private readonly fnOf: (vu: VU) => (data: unknown) => unknown,
    private readonly dataOf: (vu: VU) => unknown,
    /** This runner's execution segment in its sequence; the whole test when unsegmented. */
    readonly tuple: ExecutionTuple = ExecutionTuple.full(),
  ) {
    this.openModel = config.executor === 'constant-arrival-rate' || config.executor === 'ramping-arrival-rate';
    this.baseTags = { ...run.globalTags, ...config.tags, scenario: config.name };
    this.iterationTuple = iterationTuple(config, tuple);
    this.counters = iterationIndex(config, tuple);
  }

  get vusHeld(): number {
    return this.holding.size;
  }

  setProgress(fn: () => number): void {
    this.progressFn = fn;
  }

  progress(): number {
    return Math.max(0, Math.min(1, this.progressFn()));
  }

  take(create = true): VU | undefined {
    const vu = this.vus.acquire(create);
    if (!vu) return undefined;
    if (vu.scenario !== this) {
      vu.iterationInScenario = 0;
      this.onTake?.(vu);
    }
    vu.scenario = this;
    this.holding.add(vu);
    this.run.vusActive++;
    this.run.registry.add(this.run.m.vus, this.run.vusActive, this.run.globalTags);
    this.run.registry.add(this.run.m.vus_max, this.run.vusInitialized, this.run.globalTags);
    return vu;
  }

  give(vu: VU): void {
    if (!this.holding.delete(vu)) return;
    this.run.vusActive--;
    this.vus.release(vu);
  }

  /** Runs one iteration on `vu`, tracked (in `active`, until it ends) so a hard stop can interrupt it. */
  iteration(vu: VU, intendedStartMs: number = this.run.clock.now()): Promise<'completed' | 'interrupted'> {
    this.iterationsStarted++;
    const [scaled, unscaled] = this.counters.next();
    vu.scenarioIterationInInstance = scaled - 1;
    vu.iterationInTest = unscaled - 1;
    // The exported function is looked up once per VU and scenario (k6 resolves it on activation).
    if (vu.execFor !== this) {
      vu.execFor = this;
      vu.execFn = this.fnOf(vu);
    }
    this.active.add(vu);
    return vu.iterate(vu.execFn!, this.dataOf(vu), intendedStartMs, this.active);
  }

  dropped(count: number): void {
    if (count <= 0) return;
    this.droppedIterations += count;
    const tags = { ...this.run.globalTags, ...this.config.tags, scenario: this.config.name };
    this.run.registry.add(this.run.m.dropped_iterations, count, tags);
  }

  /** Interrupts every iteration still running (after the graceful stop window, or on abort). */
  interruptAll(): void {
    for (const vu of this.active) vu.interrupt();
  }
}

/** Sleeps until `atMs` (epoch ms on `clock`) or until the signal fires; resolves false when aborted. */
export function waitUntil(clock: Clock, atMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  const delay = atMs - clock.now();
  // Behind schedule (an arrival-rate executor catching up): go on without a timer tick.
  if (delay <= 0) return Promise.resolve(true);
  return sleepUnlessAborted(clock, delay, signal);
}

/**
 * Waits for `running` to settle, but no longer than the graceful stop: then interrupts what is left.
 * Resolves once everything has stopped.
 */
export async function gracefulStop(s: ScenarioRun, running: Promise<unknown>[], hardStopAtMs: number): Promise<void> {
  const all = Promise.allSettled(running);
  // Its own controller, cancelled once everything settles: a pending timer until the hard stop
  // would keep the process alive for the rest of maxDuration after the test has finished.
  const settled = new AbortController();
  const signal = AbortSignal.any([s.run.abortController.signal, settled.signal]);
  // Time up, or the whole run aborted: interrupt what is left. Settled first: nothing to do.
  const timeUp = waitUntil(s.run.clock, hardStopAtMs, signal).then(() => (settled.signal.aborted ? ('done' as const) : ('time' as const)));
  const which = await Promise.race([all.then(() => 'done' as const), timeUp]);
  settled.abort();
  if (which === 'time') s.interruptAll();
  await all;
}
