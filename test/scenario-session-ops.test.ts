/**
 * The scenarios' contract helpers (scenarios/lib/session-ops.ts) read the contract's headers,
 * named once in src/contract/wire.ts, from a real answer under the built-in engine: the mode from
 * X-State-Mode before the body's `mode`, and the instance the router names.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_HEADER, STATE_MODE_HEADER } from '../src/contract/wire.ts';
import { runScript } from '../src/engine/index.ts';
import { HistoryRecorder } from '../src/record/sink.ts';
import { startServer, writeScript, type TestServer } from './engine/helpers.ts';

const OPS = path.resolve('scenarios/lib/session-ops.ts');
const HISTORY = path.resolve('scenarios/lib/history.ts');

let server: TestServer;
const paths: string[] = [];
beforeAll(async () => {
  server = await startServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    // Held past the executor's hard stop: the request arrived (and could have been applied), no answer comes in time.
    if (req.url?.includes('held')) {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 3_000);
      return;
    }
    // The body says normal, the header degraded: the header is what the contract makes binding.
    const body = req.method === 'POST' ? { revision: 1, turnCount: 1, applied: true, mode: 'normal' } : { revision: 1, turnCount: 1, turns: [{ turnId: 't1' }], mode: 'normal' };
    res.writeHead(200, { 'content-type': 'application/json', [STATE_MODE_HEADER]: 'degraded', [INSTANCE_HEADER]: 'i9' }).end(JSON.stringify(body));
  });
});
afterAll(async () => {
  await server.close();
});

describe('scenario session ops', () => {
  it('record the mode header and the serving instance, on the contract paths', async () => {
    const s = writeScript(`import { appendTurn, readSession } from ${JSON.stringify(OPS)};
import { flushHistory } from ${JSON.stringify(HISTORY)};
export const options = { vus: 1, iterations: 1 };
export default async function () {
  await appendTurn('s 1', 't1', 'hello');
  await readSession('s 1', 'bounded');
  await flushHistory();
}`);
    try {
      const history = new HistoryRecorder();
      await runScript({ scriptPath: s.file, env: { STATEPROOF_TARGET: server.url }, history });
      expect(history.entries.map((e) => ({ op: e.op, status: e.status, mode: e.mode, instance: e.instance }))).toEqual([
        { op: 'append', status: 200, mode: 'degraded', instance: 'i9' },
        { op: 'read', status: 200, mode: 'degraded', instance: 'i9' },
      ]);
      expect(paths).toEqual(['POST /v1/sessions/s%201/turns', 'GET /v1/sessions/s%201?consistency=bounded']);
    } finally {
      s.cleanup();
    }
  });

  it('record a write cut off by the graceful stop as unknown (it was sent: it may have been applied)', { timeout: 30_000 }, async () => {
    const s = writeScript(`import { appendTurn, deleteSession } from ${JSON.stringify(OPS)};
export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 2, iterations: 1, maxDuration: '300ms', gracefulStop: '0s' } } };
export default async function () {
  if (__VU === 1) await appendTurn('held-1', 'held-t1', 'hello');
  else await deleteSession('held-2');
}`);
    try {
      const history = new HistoryRecorder();
      const r = await runScript({ scriptPath: s.file, env: { STATEPROOF_TARGET: server.url }, history });
      expect(r.requestsAbandoned).toBe(2);
      const byOp = (op: string) => history.entries.find((e) => e.op === op);
      expect(byOp('append')).toMatchObject({ session: 'held-1', turnId: 'held-t1', outcome: 'unknown', status: 0, code: 'interrupted' });
      expect(byOp('delete')).toMatchObject({ session: 'held-2', outcome: 'unknown', status: 0, code: 'interrupted' });
      expect(history.entries).toHaveLength(2);
      expect(paths).toEqual(expect.arrayContaining(['POST /v1/sessions/held-1/turns', 'DELETE /v1/sessions/held-2']));
    } finally {
      s.cleanup();
    }
  });
});
