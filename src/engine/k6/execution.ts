/** `k6/execution` for one VU. */
import type { VU } from '../vu.ts';
import type { HistoryEntry } from '../../record/history.ts';
import { Abort } from '../test-run.ts';

/** Symbol under which k6/execution carries the engine's in-process hooks (absent under real k6). */
export const ENGINE_HOOK = Symbol.for('stateproof.engine');

/** k6's exit code for test.abort() (errext/exitcodes: ScriptAborted). */
export const EXIT_SCRIPT_ABORTED = 108;

export function createExecution(vu: VU) {
  const run = vu.run;
  const vuInfo = {
    get idInInstance() {
      return vu.id;
    },
    get idInTest() {
      return vu.idInTest;
    },
    get iterationInInstance() {
      return vu.iterationInInstance;
    },
    get iterationInScenario() {
      return vu.iterationInScenario;
    },
    get tags() {
      return vu.tags;
    },
    set tags(v: Record<string, string>) {
      vu.tags = v;
    },
    metrics: {
      get tags() {
        return vu.tags;
      },
      get metadata() {
        return vu.metadata;
      },
    },
  };
  const scenario = {
    get name() {
      return vu.scenario?.config.name ?? '';
    },
    get executor() {
      return vu.scenario?.config.executor ?? '';
    },
    get startTime() {
      return vu.scenario ? Math.floor(vu.scenario.startedAtMs) : 0;
    },
    get progress() {
      return vu.scenario?.progress() ?? 0;
    },
    get iterationInInstance() {
      return vu.scenarioIterationInInstance;
    },
    get iterationInTest() {
      return vu.iterationInTest;
    },
  };
  const instance = {
    get vusActive() {
      return run.vusActive;
    },
    get vusInitialized() {
      return run.vusInitialized;
    },
    get iterationsCompleted() {
      return run.iterationsCompleted;
    },
    get iterationsInterrupted() {
      return run.iterationsInterrupted;
    },
    get currentTestRunDuration() {
      return run.elapsedMs;
    },
  };
  const test = {
    abort(reason?: string): never {
      const message = reason ? `test aborted: ${reason}` : 'test aborted';
      run.stop(new Abort(message, EXIT_SCRIPT_ABORTED));
      throw Object.assign(new Error(message), { name: 'AbortError' });
    },
    get options() {
      return run.options;
    },
  };
  // Invisible to k6 scripts (a symbol key): scenarios/lib/history.ts hands entries over in-process here.
  const engineHook = {
    /** How late the running iteration started against its schedule (arrival-rate executors), ms. */
    lagMs(): number {
      return vu.lagMs;
    },
    recordHistory(entry: Omit<HistoryEntry, 'id'>): void {
      if (!run.history) return;
      if (entry.phase === undefined) {
        const phase = run.phase?.();
        if (phase !== undefined) entry.phase = phase;
      }
      run.history.record(entry);
      run.historyEntries++;
    },
  };
  return { vu: vuInfo, scenario, instance, test, [ENGINE_HOOK]: engineHook };
}
