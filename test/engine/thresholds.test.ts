import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../../src/engine/index.ts';
import { parseThresholds } from '../../src/engine/thresholds.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200).end('ok');
  });
});
afterAll(async () => {
  await server.close();
});

async function run(source: string) {
  const s = writeScript(source);
  try {
    return await runScript({ scriptPath: s.file, env: { URL: server.url } });
  } finally {
    s.cleanup();
  }
}

describe('thresholds', () => {
  it('pass with exit code 0 and appear in the summary as k6 shapes them', async () => {
    const r = await run(`import http from 'k6/http';
export const options = { iterations: 20, thresholds: { http_req_duration: ['p(95)<5000', 'avg<5000'], 'http_req_duration{status:200}': ['max<5000'], http_req_failed: ['rate==0'], http_reqs: ['count==20'] } };
export default async function () { await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    expect(r.exitCode).toBe(0);
    expect(r.thresholds.every((t) => t.ok)).toBe(true);
    expect(r.summary.metrics.http_req_duration!.thresholds).toEqual({ 'p(95)<5000': { ok: true }, 'avg<5000': { ok: true } });
    expect(r.summary.metrics['http_req_duration{status:200}']!.values.max).toBeGreaterThan(0);
    expect(r.summary.metrics.http_reqs!.values.count).toBe(20);
  });

  it('fail with k6 exit code 99; tag-filtered submetrics see only their samples', async () => {
    const r = await run(`import http from 'k6/http';
export const options = { iterations: 10, thresholds: { 'http_reqs{status:404}': ['count==5'], 'http_reqs{status:200}': ['count<5'] } };
export default async function () { await http.asyncRequest('GET', __ENV.URL + (__ITER % 2 ? '/missing' : '/')); }`);
    expect(r.exitCode).toBe(99);
    const byKey = Object.fromEntries(r.thresholds.map((t) => [t.metric, t]));
    expect(byKey['http_reqs{status:404}']).toMatchObject({ ok: true, observed: 5 });
    expect(byKey['http_reqs{status:200}']).toMatchObject({ ok: false, observed: 5 });
  });

  it('abortOnFail stops the test early with exit code 99', async () => {
    const started = Date.now();
    const r = await run(`import http from 'k6/http';
import { Counter } from 'k6/metrics';
const errors = new Counter('my_errors');
export const options = { vus: 2, duration: '30s', thresholds: { my_errors: [{ threshold: 'count<1', abortOnFail: true }] } };
export default async function () { errors.add(1); await http.asyncRequest('GET', __ENV.URL + '/'); }`);
    expect(r.exitCode).toBe(99);
    expect(r.aborted?.reason).toMatch(/abortOnFail/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('test.abort() ends the run with exit code 108; checks count in the root group', async () => {
    const r = await run(`import { check } from 'k6';
import exec from 'k6/execution';
export const options = { vus: 1, duration: '10s' };
export default function () {
  check(1, { 'one is one': (v) => v === 1 });
  if (exec.scenario.iterationInTest === 3) exec.test.abort('enough');
}`);
    expect(r.exitCode).toBe(108);
    expect(r.durationMs).toBeLessThan(5000);
    expect(r.summary.root_group.checks[0]).toMatchObject({ name: 'one is one', passes: 4, fails: 0 });
  });

  it('refuses a threshold on an unknown metric or a wrong aggregation, naming it', async () => {
    await expect(run(`export const options = { thresholds: { nope: ['count<1'] } }; export default function () {}`)).rejects.toThrow(/no metric named "nope"/);
    await expect(run(`export const options = { thresholds: { http_reqs: ['p(95)<1'] } }; export default function () {}`)).rejects.toThrow(/does not apply to a counter/);
    expect(() => parseThresholds({ x: ['p95 < 3'] })).toThrow(/not a threshold expression/);
  });

  it('fails fast on an unimplemented k6 feature, naming it', async () => {
    await expect(
      run(`import http from 'k6/http'; export default async function () { (await http.asyncRequest('GET', __ENV.URL)).submitForm(); }`),
    ).rejects.toThrow(/response.submitForm\(\) is not implemented by the built-in engine/);
    await expect(run(`import browser from 'k6/browser'; export default function () { browser; }`)).rejects.toThrow(/module "k6\/browser" is not implemented/);
    await expect(run(`export const options = { rps: 10 }; export default function () {}`)).rejects.toThrow(/options.rps is not implemented/);
  });

  it('honours handleSummary with the summary data and setup data', async () => {
    const r = await run(`import http from 'k6/http';
export const options = { iterations: 3 };
export function setup() { return { token: 't' }; }
export default async function (data) { if (data.token !== 't') throw new Error('no data'); await http.asyncRequest('GET', __ENV.URL + '/'); }
export function handleSummary(data) { return { 'out.json': JSON.stringify({ reqs: data.metrics.http_reqs.values.count, setup: data.setup_data, hasRoot: 'root_group' in data, stats: data.options.summaryTrendStats }) }; }`);
    expect(Object.keys(r.summaryOutputs)).toEqual(['out.json']);
    expect(JSON.parse(r.summaryOutputs['out.json'] as string)).toEqual({ reqs: 3, setup: { token: 't' }, hasRoot: true, stats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'] });
  });
});
