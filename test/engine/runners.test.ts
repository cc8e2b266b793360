/**
 * --runners at the engine: the same seeded script on 1 and on 3 runner processes gives the same
 * requests per HDR series, the same merged HDR totals, checks and history; a runner that stops
 * answering is killed and reported with its last batch, never waited on; bad counts are refused
 * in one line; real k6 processes split the same way (skipped without a k6 binary).
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, UsageError } from '../../src/base/errors.ts';
import { runScript, type EngineResult } from '../../src/engine/index.ts';
import { findK6 } from '../../src/engine/k6run/run.ts';
import { decodeSnapshot } from '../../src/record/hdr.ts';
import { HistoryRecorder, startHistorySink } from '../../src/record/sink.ts';
import { runLocalRunners } from '../../src/engine/runners/local-runners.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

const HELPER = path.resolve('scenarios/lib/history.ts');

let server: TestServer;
beforeAll(async () => {
  server = await startServer((req, res, n) => {
    // Decided by the request alone, so every split of the load sees the same answers.
    const status = req.method === 'GET' && req.url === '/v1/sessions/w3' ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'x-state-mode': 'normal' }).end(JSON.stringify({ revision: n }));
  });
});
afterAll(async () => {
  await server.close();
});

/** Two scenarios (closed and shared iterations), two request names, a check, a custom counter and thresholds. */
const SCRIPT = `import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { recordOp, flushHistory, outcomeOf } from ${JSON.stringify(HELPER)};
const turns = new Counter('turns_sent');
export const options = {
  scenarios: {
    writers: { executor: 'per-vu-iterations', vus: 5, iterations: 4, exec: 'write' },
    readers: { executor: 'shared-iterations', vus: 3, iterations: 13, exec: 'read' },
  },
  thresholds: { 'http_req_duration{scenario:writers}': ['p(99)<5000'], turns_sent: ['count==20'], checks: ['rate>0.5'] },
};
export async function write() {
  if (__ENV.HANG_RUNNER && __ENV.HANG_RUNNER === __ENV.STATEPROOF_RUNNER_ID && exec.vu.iterationInScenario === 2) { for (;;) {} }
  const session = 'w' + exec.vu.idInTest;
  const turnId = session + '-' + exec.vu.iterationInScenario;
  const startMs = Date.now();
  const res = await http.asyncRequest('POST', __ENV.URL + '/v1/sessions/' + session + '/turns', '{}', { tags: { name: 'append' } });
  turns.add(1);
  check(res, { 'appended': (r) => r.status === 200 });
  recordOp({ op: 'append', session, turnId, intendedStartMs: startMs, startMs, endMs: Date.now(), outcome: outcomeOf(res.status), status: res.status });
  await flushHistory();
}
export async function read() {
  const session = 'w' + (1 + (exec.scenario.iterationInTest % 5));
  const startMs = Date.now();
  const res = await http.asyncRequest('GET', __ENV.URL + '/v1/sessions/' + session, null, { tags: { name: 'read' } });
  check(res, { 'read ok': (r) => r.status === 200 });
  recordOp({ op: 'read', session, turnId: 'r' + exec.scenario.iterationInTest, intendedStartMs: startMs, startMs, endMs: Date.now(), outcome: outcomeOf(res.status), status: res.status });
  await flushHistory();
}`;

/** Requests per series: the series' tags (no per-run values) → count. */
function seriesCounts(r: EngineResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of r.hdr) {
    if (s.metric !== 'http_req_duration') continue;
    const key = `${s.kind} ${Object.entries(s.tags).filter(([k]) => k !== 'status').sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    out[key] = (out[key] ?? 0) + s.count;
  }
  return out;
}

const hdrTotal = (r: EngineResult, metric: string) => r.hdr.filter((s) => s.metric === metric && s.kind === 'value').reduce((a, s) => a + decodeSnapshot(s.snapshot).totalCount, 0);
const checks = (r: EngineResult) => Object.fromEntries(r.summary.root_group.checks.map((c) => [c.name, c.passes + c.fails]));

describe('--runners', () => {
  it('1 runner and 3 runners: the same requests per series, HDR totals, checks, thresholds and history', { timeout: 120_000 }, async () => {
    const s = writeScript(SCRIPT);
    try {
      const results: Array<{ r: EngineResult; h: HistoryRecorder }> = [];
      for (const runners of [1, 3]) {
        const h = new HistoryRecorder();
        const r = await runScript({ scriptPath: s.file, env: { URL: server.url }, history: h, runners, log: () => {} });
        results.push({ r, h });
      }
      const [one, three] = results as [(typeof results)[0], (typeof results)[0]];
      expect(three.r.runners!.map((x) => [x.id, x.segment, x.status])).toEqual([
        ['runner-1', '0:1/3', 'done'],
        ['runner-2', '1/3:2/3', 'done'],
        ['runner-3', '2/3:1', 'done'],
      ]);
      expect(one.r.metrics.http_reqs!.values.count).toBe(33);
      expect(three.r.runners!.reduce((a, x) => a + x.requests!, 0)).toBe(33);
      expect(seriesCounts(three.r)).toEqual(seriesCounts(one.r));
      expect(hdrTotal(three.r, 'http_req_duration')).toBe(hdrTotal(one.r, 'http_req_duration'));
      expect(hdrTotal(three.r, 'iteration_duration')).toBe(33);
      expect(checks(three.r)).toEqual(checks(one.r));
      expect(three.r.metrics.turns_sent!.values.count).toBe(20);
      expect(three.r.thresholds.map((t) => [t.metric, t.source, t.ok])).toEqual(one.r.thresholds.map((t) => [t.metric, t.source, t.ok]));
      expect(three.r.thresholds.every((t) => t.ok)).toBe(true);
      expect(three.r.exitCode).toBe(0);
      // The same operations, by what they were. VU ids are striped across segments, so a per-VU
      // iteration keeps its VU; which VU takes a shared iteration is first come, split or not.
      const ops = (h: HistoryRecorder) => h.entries.map((e) => `${e.op} ${e.session} ${e.turnId}${e.op === 'append' ? ` vu ${e.vu}` : ''}`).sort();
      expect(ops(three.h)).toEqual(ops(one.h));
      expect(three.r.sink).toMatchObject({ entries: 33, duplicateBatches: 0, rejectedEntries: 0 });
      expect(three.r.historyEntries).toBe(33);
    } finally {
      s.cleanup();
    }
  });

  it('a runner that stops answering is killed and reported with its last batch; the others still count', { timeout: 120_000 }, async () => {
    const s = writeScript(SCRIPT);
    try {
      const lines: string[] = [];
      const h = new HistoryRecorder();
      const r = await runScript({ scriptPath: s.file, env: { URL: server.url, HANG_RUNNER: 'runner-2' }, history: h, runners: 3, runnerSilenceMs: 8_000, log: (l) => lines.push(l) });
      const hung = r.runners!.find((x) => x.id === 'runner-2')!;
      expect(hung.status).toBe('vanished');
      expect(hung.problem).toMatch(/stopped answering and was killed before its final metrics; its load after its last batch is missing/);
      expect(lines.some((l) => /runner-2 has said nothing for \d+ s; killing it/.test(l))).toBe(true);
      expect(r.runners!.filter((x) => x.status === 'done').map((x) => x.id)).toEqual(['runner-1', 'runner-3']);
      // What the two finished runners did is all there: their requests, merged.
      const done = r.runners!.filter((x) => x.status === 'done');
      expect(r.metrics.http_reqs!.values.count).toBe(done.reduce((a, x) => a + x.requests!, 0));
      expect(h.entries.length).toBeGreaterThanOrEqual(done.reduce((a, x) => a + x.entries, 0));
    } finally {
      s.cleanup();
    }
  });

  it('refuses a count the scenario cannot split, in one line, before starting anything', async () => {
    const s = writeScript(SCRIPT);
    try {
      const err = await runScript({ scriptPath: s.file, env: { URL: server.url }, runners: 9, log: () => {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe('--runners 9: the scenario runs at most 8 VUs, so 4 runners would have no VU; use --runners 5 or fewer (or more --vus)');
    } finally {
      s.cleanup();
    }
  });

  it('a runner with the wrong token stops at once with exit 3, saying the sink refused it; the sink counts the refusal', { timeout: 120_000 }, async () => {
    const s = writeScript(SCRIPT);
    try {
      await using sink = await startHistorySink(new HistoryRecorder());
      const lines: string[] = [];
      const wrong = { ...sink, url: sink.url, metricsUrl: sink.metricsUrl, runId: sink.runId, token: 'not-the-token', expectRunner: (id: string) => sink.expectRunner(id) } as typeof sink;
      const [out] = await runLocalRunners({ opts: { scriptPath: s.file, env: { URL: server.url } }, sink: wrong, segments: ['0:1'], sequence: '0,1', log: (l) => lines.push(l) });
      expect(out!.exitCode).toBe(3);
      expect(out!.lastError).toMatch(/^stateproof runner runner-1: the history sink refused batch runner-1\/\d+: 401 missing or wrong bearer token: send Authorization: Bearer <the run's STATEPROOF_SINK_TOKEN>; stopping/);
      expect(sink.stats().rejected.unauthorized).toBeGreaterThanOrEqual(1);
      expect(sink.stats().entries).toBe(0);
    } finally {
      s.cleanup();
    }
  });

  it('a sink port in use ends the run in one line (an environment problem: exit 3)', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const s = writeScript(SCRIPT);
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const err = await runScript({ scriptPath: s.file, env: { URL: server.url }, runners: 2, sinkListen: { host: '127.0.0.1', port }, log: () => {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).exitCode).toBe(3);
      expect((err as Error).message).toBe(`the history sink cannot listen on 127.0.0.1:${port}: the port is in use; free it or pick another with --sink-listen HOST:PORT`);
    } finally {
      s.cleanup();
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('--sink-listen: a runner elsewhere records into the run with the printed URL and token, and is listed with its last batch', { timeout: 120_000 }, async () => {
    const s = writeScript(`import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } } };
export default function () { sleep(2); }`);
    try {
      const h = new HistoryRecorder();
      let posted: Promise<number> | undefined;
      const lines: string[] = [];
      const r = await runScript({
        scriptPath: s.file,
        history: h,
        sinkListen: { host: '127.0.0.1', port: 0 },
        log: (l) => {
          lines.push(l);
          // What a user copies to the other machine: the URL and the token, from the printed line.
          const m = /STATEPROOF_HISTORY_URL=http:\/\/<this machine>:(\d+)(\S+) STATEPROOF_SINK_TOKEN=(\S+)/.exec(l);
          if (m) {
            const entry = { op: 'append', session: 'remote', turnId: 'r1', intendedStartMs: 1, startMs: 1, endMs: 2, outcome: 'ok', status: 200, vu: 1 };
            posted = fetch(`http://127.0.0.1:${m[1]}${m[2]}`, {
              method: 'POST',
              body: JSON.stringify([entry]),
              headers: { authorization: `Bearer ${m[3]}`, 'x-stateproof-runner': 'pod-7', 'x-stateproof-batch': '1' },
            }).then((res) => res.status);
          }
        },
      });
      expect(await posted).toBe(204);
      expect(lines[0]).toMatch(/^stateproof: history sink for run run-\w+ listening on 127\.0\.0\.1:\d+$/);
      expect(h.entries.map((e) => e.turnId)).toEqual(['r1']);
      expect(r.runners).toEqual([{ id: 'pod-7', segment: null, kind: 'remote', status: 'remote', requests: null, iterations: null, entries: 1, batches: 1, lastBatchAtMs: expect.any(Number), exitCode: null }]);
      expect(r.exitCode).toBe(0);
    } finally {
      s.cleanup();
    }
  });

  const k6 = findK6(process.env.STATEPROOF_K6 ?? '/tmp/i16k6/k6');
  it.skipIf(!k6)('--engine k6: 3 real k6 processes on their segments give the same counts as one', { timeout: 180_000 }, async () => {
    const s = writeScript(SCRIPT);
    try {
      const results: EngineResult[] = [];
      const histories: HistoryRecorder[] = [];
      for (const runners of [1, 3]) {
        const h = new HistoryRecorder();
        results.push(await runScript({ scriptPath: s.file, env: { URL: server.url }, history: h, runners, engine: 'k6', k6Path: k6, log: () => {} }));
        histories.push(h);
      }
      const [one, three] = results as [EngineResult, EngineResult];
      expect(one.metrics.http_reqs!.values.count).toBe(33);
      expect(three.metrics.http_reqs!.values.count).toBe(33);
      expect(seriesCounts(three)).toEqual(seriesCounts(one));
      expect(checks(three)).toEqual(checks(one));
      expect(three.thresholds.map((t) => [t.metric, t.ok])).toEqual(one.thresholds.map((t) => [t.metric, t.ok]));
      expect(three.runners!.map((x) => x.status)).toEqual(['done', 'done', 'done']);
      expect(histories[1]!.entries).toHaveLength(33);
      expect(new Set(histories[1]!.entries.map((e) => e.turnId)).size).toBe(33);
    } finally {
      s.cleanup();
    }
  });
});
