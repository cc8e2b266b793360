import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../../src/engine/index.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

async function run(source: string, env: Record<string, string> = {}) {
  const s = writeScript(source);
  try {
    return await runScript({ scriptPath: s.file, env: { URL: server.url, ...env } });
  } finally {
    s.cleanup();
  }
}

const REQUEST = `import http from 'k6/http';
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`;

describe('iteration executors', () => {
  it('per-vu-iterations runs exactly vus × iterations', async () => {
    const before = server.requests;
    const r = await run(`${REQUEST}
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 3, iterations: 7 } } };`);
    expect(r.exitCode).toBe(0);
    expect(r.metrics.iterations!.values.count).toBe(21);
    expect(server.requests - before).toBe(21);
    expect(r.droppedIterations).toBe(0);
  });

  it('shared-iterations runs exactly the shared count', async () => {
    const before = server.requests;
    const r = await run(`${REQUEST}
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 4, iterations: 25 } } };`);
    expect(r.metrics.iterations!.values.count).toBe(25);
    expect(server.requests - before).toBe(25);
  });

  it('the vus/iterations shortcut is shared-iterations; maxDuration counts unstarted iterations as dropped', async () => {
    const r = await run(`import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 50, maxDuration: '500ms', gracefulStop: '0s' } } };
export default function () { sleep(0.1); }`);
    const done = r.metrics.iterations?.values.count ?? 0;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(10);
    // k6: iterations never started count as dropped; an interrupted one counts as neither.
    expect(r.droppedIterations).toBeGreaterThanOrEqual(50 - done - 1);
    expect(r.droppedIterations).toBeLessThanOrEqual(50 - done);
  });
});

// Real runs: only what a busy machine cannot change. Every scheduled iteration either starts
// (and completes: the graceful stop is 30 s) or is dropped, so iterations + dropped is the
// schedule's count exactly, however many a slow box drops. That nothing drops while VUs suffice,
// and the exact drops and start times, are checked on a fake clock in arrival-rate.test.ts; how
// closely a real run holds its rate is a figure in `npm run bench schedule`.
describe('arrival rate', () => {
  it('constant-arrival-rate schedules rate × duration iterations (200/s for 3 s = 600)', async () => {
    const before = server.requests;
    const r = await run(`${REQUEST}
export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 20, maxVUs: 50 } } };`);
    const count = r.metrics.iterations!.values.count!;
    expect(count + r.droppedIterations).toBe(600);
    expect(server.requests - before).toBe(count);
  });

  it('ramping-arrival-rate follows its stages (0 → 100/s over 1 s, then 100/s for 1 s: 149 due before the end)', async () => {
    const r = await run(`${REQUEST}
export const options = { scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 20,
  stages: [{ target: 100, duration: '1s' }, { target: 100, duration: '1s' }] } } };`);
    // The 150th falls due exactly at the end of the last stage, where starting stops.
    expect(r.metrics.iterations!.values.count! + r.droppedIterations).toBe(149);
  });

  it('drops iterations when maxVUs are all busy, as k6 counts them', async () => {
    const r = await run(`import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '1s', preAllocatedVUs: 1, maxVUs: 1 } } };
export default function () { sleep(0.5); }`);
    const done = r.metrics.iterations!.values.count!;
    // One VU busy 500 ms at a time within a 1 s window: at most 2 can run, the rest are dropped.
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThanOrEqual(2);
    expect(r.droppedIterations + done).toBe(20);
  });
});

describe('ramping-vus', () => {
  it('reaches each stage target and ramps down', async () => {
    const r = await run(`import http from 'k6/http';
import exec from 'k6/execution';
import { Gauge } from 'k6/metrics';
const active = new Gauge('active_vus');
export const options = { scenarios: { s: { executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '0s',
  stages: [{ duration: '1s', target: 6 }, { duration: '1s', target: 6 }, { duration: '500ms', target: 2 }, { duration: '500ms', target: 2 }] } } };
export default async function () {
  active.add(exec.instance.vusActive);
  await http.asyncRequest('GET', __ENV.URL + '/');
  await new Promise((r) => setTimeout(r, 20));
}`);
    expect(r.metrics.active_vus!.values.max).toBe(6);
    expect(r.metrics.vus!.values.max).toBe(6);
    // At the end the plan holds 2 VUs.
    expect(r.metrics.active_vus!.values.value).toBe(2);
  });
});
