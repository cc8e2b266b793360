import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../../src/engine/index.ts';
import { mergeSnapshots, percentilesMs } from '../../src/record/hdr.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

describe('coordinated omission', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Answers at once, except request 150 (≈0.75 s in at 200/s), which it holds for 1 s.
    server = await startServer((_req, res, n) => {
      const answer = () => res.writeHead(200).end('ok');
      if (n === 150) setTimeout(answer, 1000);
      else answer();
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('a 1 s stall shows in the corrected p99; service time holds only the requests sent', async () => {
    const s = writeScript(`import http from 'k6/http';
export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 1, maxVUs: 1 } } };
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    try {
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url } });
      const of = (kind: string) => percentilesMs(mergeSnapshots(r.hdr.filter((h) => h.metric === 'http_req_duration' && h.kind === kind)).histogram);
      const service = of('value');
      const corrected = of('corrected');
      // One VU: while it waits out the stall, the iterations due meanwhile are dropped (k6's rule) ...
      expect(r.droppedIterations).toBeGreaterThan(120);
      // ... and only one request actually took 1 s. Service time holds the requests that were sent
      // and nothing else, so the dropped iterations' waits cannot reach it: the stall hides there ...
      expect(service.maxMs).toBeGreaterThan(900);
      expect(service.count).toBe(r.metrics.iterations!.values.count);
      expect(service.count).toBe(server.requests);
      // ... while the corrected histogram (intended start, dropped iterations as lower bounds) shows it.
      // Lower bounds only: a busy machine makes both larger, never smaller. How low the service-time
      // p99 stays on a real run is a figure in `npm run bench schedule`.
      expect(corrected.p99Ms).toBeGreaterThan(500);
      expect(corrected.count).toBe(service.count + r.droppedIterations);
    } finally {
      s.cleanup();
    }
  });
});

describe('HDR snapshots', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_req, res, n) => setTimeout(() => res.writeHead(200).end('ok'), n % 7));
  });
  afterAll(async () => {
    await server.close();
  });

  it('two halves of a run (per-phase series) merge into the whole run exactly', async () => {
    const s = writeScript(`import http from 'k6/http';
export const options = { vus: 4, iterations: 400 };
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    let calls = 0;
    try {
      // The caller's phase label: first half of the requests "before", the rest "during".
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url }, phase: () => (calls++ < 200 ? 'before' : 'during') });
      const halves = r.hdr.filter((h) => h.metric === 'http_req_duration' && h.kind === 'value');
      expect(new Set(halves.map((h) => h.tags.phase))).toEqual(new Set(['before', 'during']));
      const merged = mergeSnapshots(halves).histogram;
      const whole = r.metrics.http_req_duration!.values;
      expect(merged.totalCount).toBe(400);
      for (const p of [90, 95]) {
        const fromMerge = merged.getValueAtPercentile(p) / 1000;
        expect(fromMerge).toBeCloseTo(whole[`p(${p})`]!, 6);
      }
      expect(merged.maxValue / 1000).toBeCloseTo(whole.max!, 0);
    } finally {
      s.cleanup();
    }
  });
});
