/** `k6` for one VU: check, group, fail, sleep, randomSeed. */
import { nowMs } from '../test-run.ts';
import type { VU } from '../vu.ts';
import { UnsupportedFeatureError } from './unsupported.ts';

export function createCore(vu: VU) {
  const run = vu.run;

  function check<T>(value: T, sets: Record<string, ((v: T) => unknown) | unknown>, tags?: Record<string, string>): boolean {
    let all = true;
    for (const [name, fn] of Object.entries(sets)) {
      const result = typeof fn === 'function' ? (fn as (v: T) => unknown)(value) : fn;
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        throw new UnsupportedFeatureError(`check "${name}" returned a Promise: async check functions`, 'await the value before check()');
      }
      const ok = Boolean(result);
      if (!ok) all = false;
      const t = vu.sampleTags();
      t.check = name;
      if (tags) Object.assign(t, tags);
      run.registry.add(run.m.checks, ok ? 1 : 0, t);
      run.check(vu.groupPath, name, ok);
    }
    return all;
  }

  function group<T>(name: string, fn: () => T): T {
    if (name.includes('::')) throw new Error(`group and check names may not contain '::' (got "${name}")`);
    const parent = vu.groupPath;
    const path = `${parent}::${name}`;
    run.group(path);
    vu.groupPath = path;
    const start = nowMs();
    let result: T;
    try {
      result = fn();
    } finally {
      vu.groupPath = parent;
    }
    if (result && typeof (result as unknown as Promise<unknown>).then === 'function') {
      throw new UnsupportedFeatureError(`group("${name}") with an async function`, 'k6 cannot tag samples across await inside a group either; use tags instead');
    }
    const t = vu.sampleTags();
    t.group = path;
    run.registry.add(run.m.group_duration, nowMs() - start, t);
    return result;
  }

  function fail(message?: string): never {
    throw new Error(message ?? '');
  }

  /**
   * k6's sleep blocks the VU. Blocking here would block every VU, so the VU instead owes the time:
   * its next request, timer and the end of its iteration wait for it. Only Date.now() read right
   * after sleep() can tell the difference.
   */
  function sleep(seconds: number): void {
    const ms = Number(seconds) * 1000;
    if (!(ms > 0)) return;
    vu.sleepUntilMs = Math.max(nowMs(), vu.sleepUntilMs) + ms;
  }

  function randomSeed(): never {
    throw new UnsupportedFeatureError('randomSeed()');
  }

  return { check, group, fail, sleep, randomSeed };
}
