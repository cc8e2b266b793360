/**
 * A virtual user: its own instance of the script (the bundle's top level runs once per VU, as k6's
 * init context does, so module-level state is per VU), its own connection pools, and the iteration
 * machinery k6 gives it: __ITER, tags, group path, pending async work, sleep.
 *
 * k6 ends an iteration when the exported function has returned AND the VU's event loop is empty
 * (pending http.asyncRequest calls and timers); `drain()` waits for the same.
 */
import { OriginConnections } from './connections.ts';
import type { SeriesRef, Tags } from './metrics/registry.ts';
import { nowMs, type TestRun } from './test-run.ts';
import type { VuScenario } from './types.ts';
import { scriptStack } from './source-positions.ts';

export type ScriptExports = Record<string, unknown> & {
  default?: unknown;
  options?: Record<string, unknown>;
  setup?: unknown;
  teardown?: unknown;
  handleSummary?: unknown;
};

export type IterationOutcome = 'completed' | 'interrupted';

/**
 * The base tags of this VU's samples as they are now, built once and reused until one of their
 * inputs (scenario, the VU's tags, group, phase) changes: a request or iteration then needs no tag
 * object and no series-key string of its own.
 */
export interface BaseTags {
  /** Unique per VU and base: a prefix for memo keys. */
  readonly id: number;
  readonly scenario: VuScenario | undefined;
  readonly userSig: string;
  readonly group: string;
  readonly phase: string | undefined;
  /** As sampleTags() returns them (do not modify: shared). */
  readonly tags: Tags;
  /** The series of iteration samples (the base tags without `group`), made on first use. */
  iterationSeries?: { tags: Tags; ref: SeriesRef };
}

export class VU {
  exports: ScriptExports = {};
  /** This VU's __ENV (scenario env merged in while it runs that scenario). */
  env: Record<string, string> = {};
  /** setup()'s data, JSON-copied for this VU as k6 does. */
  setupData: unknown;
  /** Read by the bundle as `__ITER` (esbuild define). */
  readonly ctx = { iter: 0 };
  tags: Tags = {};
  metadata: Record<string, string> = {};
  scenario: VuScenario | undefined;
  /** The scenario whose exec function `execFn` is (see ScenarioRun.iteration). */
  execFor: VuScenario | undefined;
  execFn: ((data: unknown) => unknown) | undefined;
  iterationInInstance = 0;
  iterationInScenario = 0;
  /** k6's scenario.iterationInTest of the running iteration: unique across execution segments. */
  iterationInTest = 0;
  /** k6's scenario.iterationInInstance: this runner's own count (equals iterationInTest unsegmented). */
  scenarioIterationInInstance = 0;
  /** k6's vu.idInTest: unique across execution segments (the VU's striped global index); `id` is __VU. */
  idInTest: number;
  /** Called on interrupt, e.g. to drop the VU's timers. */
  onInterrupt: (() => void) | undefined;
  groupPath = '';
  /** How late this iteration started against its schedule (arrival-rate); 0 for closed executors. */
  lagMs = 0;
  intendedStartMs = 0;
  sleepUntilMs = 0;
  private pending = 0;
  private drained: (() => void) | undefined;
  /** Bumped on every interrupt: a request or iteration started before it belongs to an interrupted past. */
  epoch = 0;
  private interruptIteration: (() => void) | undefined;
  private readonly pools = new Map<string, OriginConnections>();
  private base: BaseTags | undefined;
  private baseIds = 0;

  constructor(
    readonly id: number,
    readonly run: TestRun,
    idInTest?: number,
  ) {
    this.idInTest = idInTest ?? id;
  }

  pool(origin: string): OriginConnections {
    let p = this.pools.get(origin);
    if (!p) {
      // One pool per VU and origin: k6 VUs keep their own keep-alive connections.
      p = new OriginConnections(origin, this.run.tls);
      this.pools.set(origin, p);
    }
    return p;
  }

  hold(): void {
    this.pending++;
  }

  release(): void {
    this.pending--;
    if (this.pending <= 0 && this.drained) {
      const d = this.drained;
      this.drained = undefined;
      d();
    }
  }

  /** Resolves when no async work of this VU is pending and any sleep() it owes has passed. */
  drain(): Promise<void> | undefined {
    if (this.pending <= 0 && this.sleepUntilMs <= 0) return undefined; // the common case, without a promise
    return (async () => {
      while (this.pending > 0) await new Promise<void>((r) => (this.drained = r));
      await this.owedSleep();
    })();
  }

  async owedSleep(): Promise<void> {
    const wait = this.sleepUntilMs - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.sleepUntilMs <= nowMs()) this.sleepUntilMs = 0; // unless sleep() was called again meanwhile
  }

  /** Base tags of every sample this VU emits now (k6: global tags, scenario tags, VU tags, group). */
  sampleTags(): Tags {
    return this.buildTags(this.run.phase?.());
  }

  private buildTags(phase: string | undefined): Tags {
    const t: Tags = this.scenario ? { ...this.scenario.baseTags } : { ...this.run.globalTags };
    for (const k in this.tags) t[k] = this.tags[k]!;
    t.group = this.groupPath;
    if (phase !== undefined) t.phase = phase;
    return t;
  }

  /** sampleTags(), memoised: the same object while scenario, VU tags, group and phase stay the same. */
  baseTags(): BaseTags {
    // The VU's own tags can be changed by the script at any time (exec.vu.tags): compared by value.
    let userSig = '';
    for (const k in this.tags) userSig += `\u0001${k}\u0002${this.tags[k]}`;
    const phase = this.run.phase?.();
    const b = this.base;
    if (b !== undefined && b.scenario === this.scenario && b.group === this.groupPath && b.phase === phase && b.userSig === userSig) return b;
    this.base = { id: ++this.baseIds, scenario: this.scenario, userSig, group: this.groupPath, phase, tags: this.buildTags(phase) };
    return this.base;
  }

  /**
   * Runs one iteration of `fn`; exceptions are logged as k6 logs them and the iteration still counts.
   * `active` holds this VU while the iteration runs (so a hard stop can find it).
   */
  async iterate(fn: (data: unknown) => unknown, data: unknown, intendedStartMs: number, active?: Set<VU>): Promise<IterationOutcome> {
    const run = this.run;
    // The schedule's clock, as the intended start is: lag and corrected durations need one axis.
    const start = run.clock.now();
    this.intendedStartMs = intendedStartMs;
    this.lagMs = Math.max(0, start - intendedStartMs);
    this.groupPath = '';
    this.ctx.iter = this.iterationInInstance;
    const epoch = this.epoch;
    let outcome: IterationOutcome = 'completed';
    try {
      // Settles when fn and the VU's pending work are done, or at once when the VU is interrupted
      // (leaving the abandoned body to fail on its own).
      outcome = await new Promise<IterationOutcome>((resolve, reject) => {
        // Inline arrows and methods only: this runs once per iteration, and a named closure costs a
        // defineProperty each time under the TypeScript loader's keepNames.
        this.interruptIteration = () => resolve('interrupted');
        let r: unknown;
        try {
          r = fn(data);
        } catch (e) {
          this.bodyFailed(e, epoch, resolve, reject);
          return;
        }
        if (isThenable(r)) Promise.resolve(r).then(() => this.bodyDone(epoch, resolve, reject), (e: unknown) => this.bodyFailed(e, epoch, resolve, reject));
        else this.bodyDone(epoch, resolve, reject);
      });
    } catch (e) {
      if (this.epoch !== epoch) outcome = 'interrupted';
      else this.logError(e);
    }
    active?.delete(this);
    this.interruptIteration = undefined;
    this.iterationInInstance++;
    this.iterationInScenario++;
    if (outcome === 'interrupted' || run.stopping) {
      run.iterationsInterrupted++;
      return 'interrupted';
    }
    const end = run.clock.now();
    const base = this.baseTags();
    let series = base.iterationSeries;
    if (series === undefined) {
      const tags = { ...base.tags };
      delete tags.group;
      series = base.iterationSeries = { tags, ref: run.registry.seriesKey(tags) };
    }
    run.registry.add(run.m.iterations, 1, series.tags, series.ref);
    run.registry.add(run.m.iteration_duration, end - start, series.tags, series.ref);
    if (this.scenario?.openModel) run.registry.addCorrected('iteration_duration', end - intendedStartMs, series.ref);
    run.iterationsCompleted++;
    return 'completed';
  }

  /** The exported function returned: the iteration ends once the VU's pending work is done too. */
  private bodyDone(epoch: number, resolve: (o: IterationOutcome) => void, reject: (e: unknown) => void): void {
    const d = this.drain();
    if (d === undefined) resolve('completed');
    else d.then(() => resolve('completed'), (e: unknown) => this.bodyFailed(e, epoch, resolve, reject));
  }

  /** A throw after an interrupt belongs to the abandoned body, not to a failure of the iteration. */
  private bodyFailed(e: unknown, epoch: number, resolve: (o: IterationOutcome) => void, reject: (e: unknown) => void): void {
    if (this.epoch !== epoch) resolve('interrupted');
    else reject(e);
  }

  logError(e: unknown): void {
    if (isAbortSignalError(e)) return;
    const err = e as { fatal?: boolean };
    if (err && err.fatal) {
      this.run.failFatal(e as Error);
      return;
    }
    const text = e instanceof Error ? (e.stack ? scriptStack(e.stack) : e.message) : String(e);
    process.stderr.write(`ERRO[${Math.round(this.run.elapsedMs / 1000)}] ${text}  source=stacktrace vu=${this.id}\n`);
  }

  /** Stops in-flight requests of this VU (hard stop after graceful time, or test abort). */
  interrupt(): void {
    this.epoch++;
    this.onInterrupt?.();
    // Destroying the pools fails every in-flight request of this VU (cheaper than a signal per request).
    for (const p of this.pools.values()) void p.destroy();
    this.pools.clear();
    this.interruptIteration?.();
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function isAbortSignalError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'UND_ERR_ABORTED');
}
