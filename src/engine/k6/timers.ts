/**
 * `k6/timers` for one VU. A pending timer keeps the iteration alive, as in k6 (the iteration ends
 * when the VU's event loop is empty), and timers start after any sleep() the VU still owes.
 */
import { nowMs } from '../test-run.ts';
import type { VU } from '../vu.ts';

export function createTimers(vu: VU) {
  const active = new Map<number, { handle: NodeJS.Timeout; repeat: boolean }>();
  let nextId = 1;
  const run = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      vu.logError(e);
    }
  };
  function setTimeout(fn: (...a: unknown[]) => void, delayMs = 0, ...args: unknown[]): number {
    const id = nextId++;
    const owed = Math.max(0, vu.sleepUntilMs - nowMs());
    vu.hold();
    const handle = globalThis.setTimeout(() => {
      active.delete(id);
      run(() => fn(...args));
      vu.release();
    }, Number(delayMs) + owed);
    active.set(id, { handle, repeat: false });
    return id;
  }
  function setInterval(fn: (...a: unknown[]) => void, delayMs = 0, ...args: unknown[]): number {
    const id = nextId++;
    vu.hold();
    const handle = globalThis.setInterval(() => run(() => fn(...args)), Math.max(1, Number(delayMs)));
    active.set(id, { handle, repeat: true });
    return id;
  }
  function clear(id: number): void {
    const t = active.get(id);
    if (!t) return;
    active.delete(id);
    if (t.repeat) globalThis.clearInterval(t.handle);
    else globalThis.clearTimeout(t.handle);
    vu.release();
  }
  /** Drops every timer of the VU (the iteration was interrupted). */
  function clearAll(): void {
    for (const id of [...active.keys()]) clear(id);
  }
  return { setTimeout, clearTimeout: clear, setInterval, clearInterval: clear, clearAll };
}
