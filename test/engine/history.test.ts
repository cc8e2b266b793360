import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../../src/engine/index.ts';
import { HistoryRecorder, startHistorySink } from '../../src/record/sink.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

const HELPER = path.resolve('scenarios/lib/history.ts');

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res, n) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-state-mode': 'normal' }).end(JSON.stringify({ revision: n }));
  });
});
afterAll(async () => {
  await server.close();
});

const SCRIPT = `import http from 'k6/http';
import exec from 'k6/execution';
import { recordOp, flushHistory, outcomeOf, intendedStartMs } from ${JSON.stringify(HELPER)};
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 3, iterations: 5 } } };
export default async function () {
  const session = 's' + exec.vu.idInTest;
  const turnId = session + '-' + exec.vu.iterationInScenario;
  const startMs = Date.now();
  const res = await http.asyncRequest('POST', __ENV.URL + '/v1/sessions/' + session + '/turns', JSON.stringify({ turnId }));
  recordOp({ op: 'append', session, turnId, intendedStartMs: intendedStartMs(startMs), startMs, endMs: Date.now(),
    outcome: outcomeOf(res.status), status: res.status, revision: res.json().revision, mode: res.headers['X-State-Mode'] });
  await flushHistory();
}`;

function shape(entries: HistoryRecorder['entries']) {
  return entries
    .map((e) => ({ vu: e.vu, op: e.op, session: e.session, turnId: e.turnId, outcome: e.outcome, status: e.status, mode: e.mode, phase: e.phase }))
    .sort((a, b) => (a.turnId! < b.turnId! ? -1 : 1));
}

describe('history', () => {
  it('comes through in-process and through the loopback sink, the same', async () => {
    const s = writeScript(SCRIPT);
    try {
      const inProcess = new HistoryRecorder();
      const r1 = await runScript({ scriptPath: s.file, env: { URL: server.url }, history: inProcess, phase: () => 'steady' });
      expect(r1.historyEntries).toBe(15);
      expect(inProcess.entries.map((e) => e.id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));

      // The k6 path: the helper batches to STATEPROOF_HISTORY_URL (forced here, k6 is not needed for it).
      const viaSink = new HistoryRecorder();
      await using sink = await startHistorySink(viaSink);
      await runScript({
        scriptPath: s.file,
        env: { URL: server.url, ...sink.runnerEnv(), STATEPROOF_HISTORY_TRANSPORT: 'http' },
      });
      expect(sink.received).toBe(15);
      expect(sink.rejected).toBe(0);
      const a = shape(inProcess.entries).map((e) => ({ ...e, phase: undefined }));
      expect(shape(viaSink.entries)).toEqual(a);
      expect(inProcess.entries.every((e) => e.phase === 'steady' && e.endMs >= e.startMs && e.intendedStartMs <= e.startMs)).toBe(true);
      expect(new Set(inProcess.entries.map((e) => e.vu))).toEqual(new Set([1, 2, 3]));
    } finally {
      s.cleanup();
    }
  });

  it('a batch whose answer is lost is sent again with the same id and applied once (the k6 helper)', async () => {
    const s = writeScript(SCRIPT);
    const viaSink = new HistoryRecorder();
    await using sink = await startHistorySink(viaSink);
    // In front of the sink: every batch reaches it, but the first answer for each id is replaced by a 503.
    const seen = new Set<string>();
    let lost = 0;
    const flaky = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const pass = ['authorization', 'x-stateproof-runner', 'x-stateproof-batch', 'content-type'];
        const headers = Object.fromEntries(pass.flatMap((k) => (typeof req.headers[k] === 'string' ? [[k, req.headers[k]]] : [])));
        const a = await fetch(sink.url, { method: 'POST', body: Buffer.concat(chunks), headers });
        const id = `${req.headers['x-stateproof-runner']}/${req.headers['x-stateproof-batch']}`;
        if (!seen.has(id)) {
          seen.add(id);
          lost++;
          res.writeHead(503).end('answer lost on the way');
        } else res.writeHead(a.status).end(await a.text());
      });
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
    try {
      const url = sink.url.replace(/:\d+\//, `:${(flaky.address() as AddressInfo).port}/`);
      await runScript({ scriptPath: s.file, env: { URL: server.url, ...sink.runnerEnv(), STATEPROOF_HISTORY_URL: url, STATEPROOF_HISTORY_TRANSPORT: 'http' } });
      expect(lost).toBe(15);
      expect(viaSink.entries).toHaveLength(15);
      expect(new Set(viaSink.entries.map((e) => e.turnId)).size).toBe(15);
      expect(sink.stats()).toMatchObject({ entries: 15, batches: 15, duplicateBatches: 15 });
    } finally {
      flaky.close();
      s.cleanup();
    }
  });

  it('the sink refuses malformed batches and counts them', async () => {
    const rec = new HistoryRecorder();
    await using sink = await startHistorySink(rec);
    const headers = { authorization: `Bearer ${sink.token}`, 'x-stateproof-runner': 'r1', 'x-stateproof-batch': '1' };
    const bad = await fetch(sink.url, { method: 'POST', body: '[{"op":"append"}]', headers });
    expect(bad.status).toBe(400);
    const notJson = await fetch(sink.url, { method: 'POST', body: 'nope', headers });
    expect(notJson.status).toBe(400);
    expect(sink.rejected).toBe(2);
    expect(rec.entries).toHaveLength(0);
  });
});
