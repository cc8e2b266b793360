import { describe, expect, it } from 'vitest';
import { percentilesMs, decodeSnapshot } from '../../src/record/hdr.ts';
import { findK6 } from '../../src/engine/k6run/run.ts';
import { K6JsonStream } from '../../src/engine/k6run/json-stream.ts';
import { TestRun } from '../../src/engine/test-run.ts';

// Lines as k6's JSON output writes them (output/json: a Metric line when a metric first appears, then Points).
const SAMPLE = [
  '{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<500"],"submetrics":null},"metric":"http_req_duration"}',
  '{"type":"Point","data":{"time":"2024-05-09T14:34:45.625742514+02:00","value":5.5,"tags":{"group":"","method":"GET","name":"http://127.0.0.1/","scenario":"default","status":"200","url":"http://127.0.0.1/","expected_response":"true"}},"metric":"http_req_duration"}',
  '{"type":"Point","data":{"time":"2024-05-09T14:34:45.725742514+02:00","value":600,"tags":{"group":"","method":"GET","name":"http://127.0.0.1/","scenario":"default","status":"200","url":"http://127.0.0.1/","expected_response":"true"}},"metric":"http_req_duration"}',
  '{"type":"Point","data":{"time":"2024-05-09T14:34:45.725742514+02:00","value":2,"tags":{"name":"stateproof_history","url":"http://127.0.0.1:9/history","status":"204"}},"metric":"http_req_duration"}',
  '{"type":"Metric","data":{"name":"checks","type":"rate","contains":"default","thresholds":[],"submetrics":null},"metric":"checks"}',
  '{"type":"Point","data":{"time":"2024-05-09T14:34:45.8+02:00","value":1,"tags":{"check":"is 200","group":"","scenario":"default"}},"metric":"checks"}',
  '{"type":"Point","data":{"time":"2024-05-09T14:34:45.9+02:00","value":0,"tags":{"check":"is 200","group":"","scenario":"default"}},"metric":"checks"}',
  'not json',
];

describe("k6's JSON output stream", () => {
  it('parses lines split across chunks into the registry, leaving out the history sink traffic', () => {
    const run = new TestRun({}, {}, undefined, undefined, {});
    const stream = new K6JsonStream(run.registry, (g, n, ok) => run.check(g, n, ok));
    const text = SAMPLE.join('\n') + '\n';
    for (let i = 0; i < text.length; i += 37) stream.feed(text.slice(i, i + 37));
    stream.end();
    expect(stream.points).toBe(4);
    expect(stream.malformed).toBe(1);
    expect(stream.thresholds.get('http_req_duration')).toEqual(['p(95)<500']);
    const trend = run.registry.trend('http_req_duration')!;
    expect(trend.count).toBe(2);
    expect(trend.max).toBe(600);
    const snap = run.registry.snapshots().find((s) => s.metric === 'http_req_duration')!;
    expect(snap.tags).not.toHaveProperty('name'); // the name tag only repeated the URL
    expect(percentilesMs(decodeSnapshot(snap.snapshot)).maxMs).toBeCloseTo(600, 0);
    expect(run.rootGroup.checks[0]).toMatchObject({ name: 'is 200', passes: 1, fails: 1 });
  });
});

const k6 = findK6(process.env.STATEPROOF_K6);
if (!k6) console.log('skipping the live k6 test: no k6 on PATH (set STATEPROOF_K6 to a k6 binary to run it)');
describe.skipIf(!k6)('real k6 (live)', () => {
  it("lists a submetric's thresholds as k6 judged them (its --summary-export), with the observed value, once a second in progress", async () => {
    const { runScript } = await import('../../src/engine/index.ts');
    const { startServer, writeScript } = await import('./helpers.ts');
    const server = await startServer();
    // Every request carries op:read and goes to a closed port: the submetric's rate is 1, which fails rate<0.5.
    const s = writeScript(`import http from 'k6/http';
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '3s' } }, thresholds: { 'http_req_failed{op:read}': ['rate<0.5'], http_reqs: ['count>0'] } };
export default async function () { await http.asyncRequest('GET', 'http://127.0.0.1:9/', null, { tags: { op: 'read' } }); await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    const progress: Array<{ totalMs: number; requestsPerSecond: number }> = [];
    try {
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url }, engine: 'k6', k6Path: k6!, onProgress: (p) => progress.push(p) });
      expect(r.exitCode).toBe(99);
      expect(r.thresholds.map((t) => [t.metric, t.source, t.ok])).toEqual([
        ['http_req_failed{op:read}', 'rate<0.5', false],
        ['http_reqs', 'count>0', true],
      ]);
      expect(r.thresholds[0]!.observed).toBe(1);
      // About one a second (the run is 3 s plus k6's start and end), each with the planned length.
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress.length).toBeLessThanOrEqual(8);
      for (const p of progress) expect(p.totalMs).toBe(3_000);
    } finally {
      s.cleanup();
      await server.close();
    }
  });

  it('runs a script and streams its samples into the same result shape', async () => {
    const { runScript } = await import('../../src/engine/index.ts');
    const { startServer, writeScript } = await import('./helpers.ts');
    const server = await startServer();
    const s = writeScript(`import http from 'k6/http';
export const options = { iterations: 5, thresholds: { http_reqs: ['count==5'] } };
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    try {
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url }, engine: 'k6', ...(k6 ? { k6Path: k6 } : {}) });
      expect(r.exitCode).toBe(0);
      expect(r.metrics.http_reqs!.values.count).toBe(5);
    } finally {
      s.cleanup();
      await server.close();
    }
  });
});
