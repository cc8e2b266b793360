import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/base/errors.ts';
import { runScript } from '../../src/engine/index.ts';
import { applyLoadOverrides } from '../../src/engine/load-overrides.ts';
import { resolveScenarios } from '../../src/engine/options.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

const scenarios = (s: Record<string, unknown>) => resolveScenarios({ scenarios: s });

describe('applyLoadOverrides: each executor resized, the script keeps its shape', () => {
  it('--vus sets closed-model VUs and an arrival-rate pool; shared-iterations keeps iterations >= vus', () => {
    const out = applyLoadOverrides(
      scenarios({
        a: { executor: 'constant-vus', vus: 3, duration: '10s' },
        b: { executor: 'per-vu-iterations', vus: 2, iterations: 5, startTime: '4s', exec: 'other' },
        c: { executor: 'shared-iterations', vus: 1, iterations: 4 },
        d: { executor: 'constant-arrival-rate', rate: 10, duration: '10s', preAllocatedVUs: 2, maxVUs: 4 },
      }),
      { vus: 8 },
    );
    expect(out.map((c) => [c.name, c.vus, c.iterations, c.preAllocatedVUs, c.maxVUs])).toEqual([
      ['a', 8, 0, 0, 0],
      ['b', 8, 5, 0, 0],
      ['c', 8, 8, 0, 0],
      ['d', 0, 0, 8, 8],
    ]);
    // what the override does not name stays as declared
    expect(out[1]).toMatchObject({ startTimeMs: 4000, exec: 'other', maxDurationMs: 600_000 });
    expect(out[3]).toMatchObject({ rate: 10, durationMs: 10_000 });
  });

  it('--duration sets a duration, an iteration executor\'s maxDuration, and stretches ramps', () => {
    const out = applyLoadOverrides(
      scenarios({
        a: { executor: 'constant-vus', vus: 3, duration: '10s' },
        b: { executor: 'per-vu-iterations', vus: 2, iterations: 5 },
        r: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '1s', target: 4 }, { duration: '3s', target: 0 }] },
      }),
      { durationMs: 8_000 },
    );
    expect(out[0]!.durationMs).toBe(8_000);
    expect(out[1]!.maxDurationMs).toBe(8_000);
    expect(out[2]!.stages).toEqual([{ durationMs: 2_000, target: 4 }, { durationMs: 6_000, target: 0 }]);
  });

  it('--rate sets iterations per second, and rescales a ramp to peak at it', () => {
    const out = applyLoadOverrides(
      scenarios({
        c: { executor: 'constant-arrival-rate', rate: 30, timeUnit: '1m', duration: '10s', preAllocatedVUs: 2 },
        r: { executor: 'ramping-arrival-rate', startRate: 5, timeUnit: '1s', preAllocatedVUs: 2, stages: [{ duration: '2s', target: 20 }, { duration: '2s', target: 10 }] },
        v: { executor: 'constant-vus', vus: 3, duration: '10s' },
      }),
      { ratePerSecond: 200, vus: 5 },
    );
    expect(out[0]).toMatchObject({ rate: 200, timeUnitMs: 1000 });
    expect(out[1]).toMatchObject({ startRate: 50, timeUnitMs: 1000, stages: [{ durationMs: 2000, target: 200 }, { durationMs: 2000, target: 100 }] });
    expect(out[2]).toMatchObject({ vus: 5 });
  });

  it('refuses --rate on a script driven only by VUs, and bad values, saying what to do', () => {
    const closed = scenarios({ writers: { executor: 'constant-vus', vus: 3, duration: '10s' } });
    expect(() => applyLoadOverrides(closed, { ratePerSecond: 100 })).toThrow(UsageError);
    expect(() => applyLoadOverrides(closed, { ratePerSecond: 100 })).toThrow(/writers \(constant-vus\).*use --vus/);
    expect(() => applyLoadOverrides(closed, { vus: 0 })).toThrow(/--vus must be a whole number/);
    expect(() => applyLoadOverrides(closed, { vus: 1.5 })).toThrow(UsageError);
    expect(() => applyLoadOverrides(closed, { durationMs: 0 })).toThrow(/--duration must be longer than 0/);
  });
});

describe('runScript({ load })', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('runs the resized executors, not the declared ones', async () => {
    const s = writeScript(`import http from 'k6/http';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 3 } } };
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    try {
      const before = server.requests;
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url }, load: { vus: 4 } });
      expect(r.metrics.iterations!.values.count).toBe(12);
      expect(server.requests - before).toBe(12);
    } finally {
      s.cleanup();
    }
  });
});
