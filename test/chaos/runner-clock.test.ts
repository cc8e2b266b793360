/**
 * The plan runner on an injected clock: faults start and end when the clock says, not when real
 * time has passed, so a plan of minutes is checked in milliseconds and its times are exact.
 * The processes are in-memory (pid -1: "not running" without asking the OS).
 */
import { describe, expect, it } from 'vitest';
import type { FaultableProcess } from '../../chaos/process.ts';
import { runPlan } from '../../chaos/runner.ts';
import { fakeClock } from '../helpers/fake-clock.ts';

function memoryProcess(name: string): FaultableProcess & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    pid: -1,
    calls,
    kill9: async () => void calls.push('kill9'),
    pause: async () => void calls.push('pause'),
    resume: async () => void calls.push('resume'),
    restart: async (o) => void calls.push(o?.schemaVersion ? `restart:v${o.schemaVersion}` : 'restart'),
  };
}

describe('runPlan on an injected clock', () => {
  it('applies at `at` and undoes at `at + duration` on the clock, and records those exact times', async () => {
    const clock = fakeClock();
    const t0 = clock.now();
    const i1 = memoryProcess('i1');
    const run = runPlan({ seed: 1, faults: [{ id: 'k', at: '10s', duration: '30s', target: 'i1', fault: { type: 'kill9' } }] }, { processes: { i1 } }, { clock });

    await clock.advance(9_999);
    expect(i1.calls).toEqual([]);
    expect(run.active()).toEqual([]);
    await clock.advance(1);
    expect(i1.calls).toEqual(['kill9']);
    expect(run.active()).toEqual(['k']);
    await clock.advance(29_999);
    expect(i1.calls).toEqual(['kill9']);
    await clock.advance(1);
    expect(i1.calls).toEqual(['kill9', 'restart']);

    const [entry] = await run.done;
    expect(entry).toMatchObject({ id: 'k', plannedStartMs: t0 + 10_000, actualStartMs: t0 + 10_000, plannedEndMs: t0 + 40_000, actualEndMs: t0 + 40_000, verified: true });
  });

  it('a rolling restart waits its gap on the clock', async () => {
    const clock = fakeClock();
    const i1 = memoryProcess('i1');
    const i2 = memoryProcess('i2');
    const run = runPlan({ faults: [{ at: 0, duration: 0, target: 'i1,i2', fault: { type: 'rolling_restart', schemaVersion: 2, gapMs: 5_000 } }] }, { processes: { i1, i2 } }, { clock });
    await clock.advance(0);
    expect([i1.calls, i2.calls]).toEqual([['restart:v2'], []]);
    await clock.advance(4_999);
    expect(i2.calls).toEqual([]);
    await clock.advance(1);
    expect(i2.calls).toEqual(['restart:v2']);
    await clock.runUntilIdle();
    expect(await run.done).toHaveLength(1);
  });

  it('a deploy that overruns its window delays the next one on the same processes, never running two restarts of one process at once', async () => {
    const clock = fakeClock();
    const t0 = clock.now();
    let inFlight = 0;
    let most = 0;
    // A slow start (a loaded machine): each restart takes 5 s, so a rolling restart of two with a 1 s gap takes 11 s.
    const slow = (name: string) => {
      const p = memoryProcess(name);
      return {
        ...p,
        restart: async (o?: { schemaVersion?: number }) => {
          most = Math.max(most, ++inFlight);
          await p.restart(o);
          await clock.sleep(5_000);
          inFlight--;
        },
      };
    };
    const i1 = slow('i1');
    const i2 = slow('i2');
    const run = runPlan(
      {
        faults: [
          { id: 'deploy-v2', at: 0, duration: '7s', target: 'i1,i2', fault: { type: 'rolling_restart', schemaVersion: 2, gapMs: 1_000 } },
          { id: 'deploy-v3', at: '7s', duration: '7s', target: 'i1,i2', fault: { type: 'rolling_restart', schemaVersion: 3, gapMs: 1_000 } },
        ],
      },
      { processes: { i1, i2 } },
      { clock },
    );
    await clock.runUntilIdle();
    const [v2, v3] = await run.done;
    expect(most).toBe(1);
    expect([i1.calls, i2.calls]).toEqual([['restart:v2', 'restart:v3'], ['restart:v2', 'restart:v3']]);
    expect(v2).toMatchObject({ id: 'deploy-v2', actualStartMs: t0, actualEndMs: t0 + 11_000 });
    expect(v3).toMatchObject({ id: 'deploy-v3', plannedStartMs: t0 + 7_000, actualStartMs: t0 + 11_000, actualEndMs: t0 + 22_000 });
    expect(v3!.detail).toMatch(/^started 4000 ms late: waited for deploy-v2 to finish on i1, i2; /);
  });

  it('on stop, ends the waits at once: what is active is undone at that time, what has not started is skipped', async () => {
    const clock = fakeClock();
    const t0 = clock.now();
    const i1 = memoryProcess('i1');
    const i2 = memoryProcess('i2');
    const run = runPlan(
      {
        faults: [
          { id: 'now', at: 0, duration: '60s', target: 'i1', fault: { type: 'sigstop' } },
          { id: 'later', at: '30s', duration: '1s', target: 'i2', fault: { type: 'kill9' } },
        ],
      },
      { processes: { i1, i2 } },
      { clock },
    );
    await clock.advance(15_000);
    expect(run.active()).toEqual(['now']);
    const timeline = await run.stop();
    expect(timeline.map((e) => e.id)).toEqual(['now']);
    expect(timeline[0]).toMatchObject({ actualStartMs: t0, actualEndMs: t0 + 15_000 });
    expect(i1.calls).toEqual(['pause', 'resume']);
    expect(i2.calls).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
