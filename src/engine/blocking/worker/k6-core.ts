/**
 * `k6`, `k6/metrics`, `k6/timers` and `k6/execution` inside a blocking VU's worker. Check results,
 * group changes, metric samples and tag changes go to the host, which records them with the VU's
 * own modules (src/engine/k6/), so they are tagged and counted exactly as for an in-process VU.
 */
import { UnsupportedFeatureError } from '../../k6/unsupported.ts';
import { abortError } from '../protocol.ts';
import type { Channel } from './channel.ts';

const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;
/** Symbol under which k6/execution carries the engine's hooks (the same as src/engine/k6/execution.ts). */
const ENGINE_HOOK = Symbol.for('stateproof.engine');

export function createCore(ch: Channel) {
  function check<T>(value: T, sets: Record<string, ((v: T) => unknown) | unknown>, tags?: Record<string, string>): boolean {
    let all = true;
    for (const [name, fn] of Object.entries(sets)) {
      const result = typeof fn === 'function' ? (fn as (v: T) => unknown)(value) : fn;
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        throw new UnsupportedFeatureError(`check "${name}" returned a Promise: async check functions`, 'await the value before check()');
      }
      const ok = Boolean(result);
      if (!ok) all = false;
      ch.post(tags ? { t: 'check', name, ok, tags: { ...tags } } : { t: 'check', name, ok });
    }
    return all;
  }

  function group<T>(name: string, fn: () => T): T {
    if (name.includes('::')) throw new Error(`group and check names may not contain '::' (got "${name}")`);
    ch.post({ t: 'group-in', name });
    const start = performance.now();
    let result: T;
    try {
      result = fn();
    } finally {
      ch.post({ t: 'group-out', ms: performance.now() - start });
    }
    if (result && typeof (result as unknown as Promise<unknown>).then === 'function') {
      throw new UnsupportedFeatureError(`group("${name}") with an async function`, 'k6 cannot tag samples across await inside a group either; use tags instead');
    }
    return result;
  }

  return {
    check,
    group,
    fail(message?: string): never {
      throw new Error(message ?? '');
    },
    sleep(seconds: number): void {
      const ms = Number(seconds) * 1000;
      if (ms > 0) ch.sleep(ms);
    },
    randomSeed(): never {
      throw new UnsupportedFeatureError('randomSeed()');
    },
  };
}

export function createMetrics(ch: Channel) {
  const make = (type: 'counter' | 'gauge' | 'rate' | 'trend') =>
    class {
      readonly name: string;
      constructor(name: string, isTime = false) {
        if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}": letters, digits and _ only, not starting with a digit, up to 128`);
        this.name = name;
        ch.post({ t: 'define', name, type, isTime: Boolean(isTime) });
      }
      add(value: number | boolean, tags?: Record<string, string>): void {
        const v = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
        if (!Number.isFinite(v)) throw new Error(`${this.name}.add(${String(value)}): not a number`);
        if (type === 'trend' && v < 0) throw new UnsupportedFeatureError(`negative Trend values (${this.name}.add(${v}))`, 'HDR histograms hold non-negative values');
        ch.post(tags ? { t: 'add', name: this.name, value: v, tags: { ...tags } } : { t: 'add', name: this.name, value: v });
      }
    };
  return { Counter: make('counter'), Gauge: make('gauge'), Rate: make('rate'), Trend: make('trend') };
}

/** Timers on the worker's own event loop; a pending one keeps the iteration open, as in k6. */
export function createTimers(ch: Channel, logError: (e: unknown) => void) {
  const active = new Map<number, { handle: NodeJS.Timeout; repeat: boolean }>();
  let nextId = 1;
  const guarded = (fn: (...a: unknown[]) => void, args: unknown[]) => {
    try {
      fn(...args);
    } catch (e) {
      logError(e);
    }
  };
  function setTimeout(fn: (...a: unknown[]) => void, delayMs = 0, ...args: unknown[]): number {
    const id = nextId++;
    ch.hold();
    const handle = globalThis.setTimeout(() => {
      active.delete(id);
      guarded(fn, args);
      ch.release();
    }, Number(delayMs));
    active.set(id, { handle, repeat: false });
    return id;
  }
  function setInterval(fn: (...a: unknown[]) => void, delayMs = 0, ...args: unknown[]): number {
    const id = nextId++;
    ch.hold();
    const handle = globalThis.setInterval(() => guarded(fn, args), Math.max(1, Number(delayMs)));
    active.set(id, { handle, repeat: true });
    return id;
  }
  function clear(id: number): void {
    const t = active.get(id);
    if (!t) return;
    active.delete(id);
    if (t.repeat) globalThis.clearInterval(t.handle);
    else globalThis.clearTimeout(t.handle);
    ch.release();
  }
  const clearAll = () => {
    for (const id of [...active.keys()]) clear(id);
  };
  return { setTimeout, clearTimeout: clear, setInterval, clearInterval: clear, clearAll };
}

export function createExecution(ch: Channel, vuId: number, options: Record<string, unknown>, tags: { value: Record<string, string> }) {
  const live = (what: string) => ch.call('exec', what) as number;
  const metadata: Record<string, string> = {};
  return {
    vu: {
      idInInstance: vuId,
      // The striped global id under an execution segment; known once the host has sent an iteration.
      get idInTest() {
        return ch.ctx.vuIdInTest || vuId;
      },
      get iterationInInstance() {
        return ch.ctx.iterationInInstance;
      },
      get iterationInScenario() {
        return ch.ctx.iterationInScenario;
      },
      get tags() {
        return tags.value;
      },
      set tags(v: Record<string, string>) {
        tags.value = v;
      },
      metrics: {
        get tags() {
          return tags.value;
        },
        get metadata() {
          return metadata;
        },
      },
    },
    scenario: {
      get name() {
        return ch.ctx.scenario.name;
      },
      get executor() {
        return ch.ctx.scenario.executor;
      },
      get startTime() {
        return ch.ctx.scenario.startTime;
      },
      get progress() {
        return live('progress');
      },
      get iterationInInstance() {
        return ch.ctx.scenarioIterationInInstance;
      },
      get iterationInTest() {
        return ch.ctx.iterationInTest;
      },
    },
    instance: {
      get vusActive() {
        return live('vusActive');
      },
      get vusInitialized() {
        return live('vusInitialized');
      },
      get iterationsCompleted() {
        return live('iterationsCompleted');
      },
      get iterationsInterrupted() {
        return live('iterationsInterrupted');
      },
      get currentTestRunDuration() {
        return live('currentTestRunDuration');
      },
    },
    test: {
      abort(reason?: string): never {
        const message = reason ? `test aborted: ${reason}` : 'test aborted';
        ch.post({ t: 'abort', reason: message });
        throw abortError(message);
      },
      get options() {
        return options;
      },
    },
    [ENGINE_HOOK]: {
      lagMs: () => ch.ctx.lagMs,
      recordHistory: (entry: unknown) => ch.post({ t: 'post', op: 'history', args: [entry] }),
    },
  };
}
