/**
 * The engine's schedule runs on the clock it is given (RunScriptOptions.clock): with a fake one, a
 * ten-minute arrival-rate scenario runs its exact number of iterations without ten minutes passing.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from '../../src/engine/index.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { writeScript } from './helpers.ts';

describe('the engine on an injected clock', () => {
  it('constant-arrival-rate starts exactly rate × duration iterations, on the clock', async () => {
    const s = writeScript(`export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '10m', preAllocatedVUs: 1, maxVUs: 1 } } };
export default function () {}`);
    try {
      const clock = fakeClock({ autoAdvance: true });
      const r = await runScript({ scriptPath: s.file, clock });
      expect(r.exitCode).toBe(0);
      expect(r.metrics.iterations!.values.count).toBe(6_000);
      expect(r.droppedIterations).toBe(0);
      // The run's length is the clock's: the last iteration starts at 599.9 s, and the graceful
      // stop's timer is cancelled as soon as it has finished.
      expect(r.durationMs).toBe(599_900);
    } finally {
      s.cleanup();
    }
  });
});
