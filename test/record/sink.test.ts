import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/base/errors.ts';
import { HistoryRecorder, startHistorySink, type HistorySinkServer } from '../../src/record/sink.ts';

const entry = (i: number) => ({ op: 'append', session: 's1', turnId: `t${i}`, intendedStartMs: 1, startMs: 1, endMs: 2, outcome: 'ok', status: 200, vu: 1 });

function post(sink: HistorySinkServer, body: unknown, h: { token?: string; runner?: string; batch?: string; url?: string } = {}) {
  return fetch(h.url ?? sink.url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: {
      authorization: `Bearer ${h.token ?? sink.token}`,
      'x-stateproof-runner': h.runner ?? 'r1',
      'x-stateproof-batch': h.batch ?? '1',
    },
  });
}

describe('history sink', () => {
  it('applies a batch once however often it is retried, and books each runner with its last batch time', async () => {
    let clock = 1_000;
    const rec = new HistoryRecorder();
    await using sink = await startHistorySink(rec, { now: () => clock });
    sink.expectRunner('silent');
    expect((await post(sink, [entry(1), entry(2)], { batch: 'b1' })).status).toBe(204);
    clock = 2_000;
    const again = await post(sink, [entry(1), entry(2)], { batch: 'b1' });
    expect(again.status).toBe(200);
    expect(await again.text()).toMatch(/duplicate batch r1\/b1: already applied/);
    // The same batch id from another runner is another batch.
    expect((await post(sink, [entry(3)], { batch: 'b1', runner: 'r2' })).status).toBe(204);
    expect(rec.entries.map((e) => e.turnId)).toEqual(['t1', 't2', 't3']);
    expect(sink.stats()).toMatchObject({ entries: 3, batches: 2, duplicateBatches: 1 });
    const runners = Object.fromEntries(sink.runners().map((r) => [r.id, r]));
    expect(runners.r1).toMatchObject({ batches: 1, entries: 2, duplicates: 1, firstBatchAtMs: 1_000, lastBatchAtMs: 2_000, doneAtMs: null });
    expect(runners.silent).toMatchObject({ batches: 0, lastBatchAtMs: null });
  });

  it('refuses a wrong token, another run, oversized and malformed batches, each with its status, and counts them', async () => {
    const rec = new HistoryRecorder();
    await using sink = await startHistorySink(rec, { maxBatchEntries: 3, maxBatchBytes: 4_096 });
    const wrong = await post(sink, [entry(1)], { token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/wrong bearer token.*STATEPROOF_SINK_TOKEN/);
    const other = await post(sink, [entry(1)], { url: sink.url.replace(sink.runId, 'run-old') });
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/no run 'run-old' here/);
    const many = await post(sink, [entry(1), entry(2), entry(3), entry(4)]);
    expect(many.status).toBe(413);
    expect(await many.text()).toMatch(/4 entries exceeds the sink's limit of 3/);
    const big = await post(sink, [{ ...entry(1), summary: 'x'.repeat(5_000) }]);
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/exceeds the sink's limit of 4096 bytes/);
    const bad = await post(sink, [entry(1), { ...entry(2), status: 'ok' }]);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/entry 1 .*status must be an HTTP status/);
    expect((await post(sink, [entry(1)], { batch: 'has space' })).status).toBe(400);
    expect(rec.entries).toHaveLength(0);
    expect(sink.stats().rejected).toEqual({ unauthorized: 1, 'unknown-run': 1, malformed: 2, 'too-large': 2, 'too-many-runners': 0 });
    expect(sink.stats().rejectedEntries).toBe(4 + 2);
    // A refused batch may be sent again once fixed: its id was not used up.
    expect((await post(sink, [entry(1)])).status).toBe(204);
  });

  it('keeps a runner\'s final metrics as its last word, checked by the owner', async () => {
    const rec = new HistoryRecorder();
    await using sink = await startHistorySink(rec, { checkMetrics: (m) => ((m as { v?: number }).v === 1 ? undefined : 'v must be 1') });
    expect((await post(sink, { v: 2 }, { url: sink.metricsUrl, batch: 'final' })).status).toBe(400);
    expect((await post(sink, { v: 1 }, { url: sink.metricsUrl, batch: 'final' })).status).toBe(204);
    expect((await post(sink, { v: 1 }, { url: sink.metricsUrl, batch: 'final' })).status).toBe(200);
    expect(sink.runners()[0]).toMatchObject({ id: 'r1', metrics: { v: 1 } });
    expect(sink.runners()[0]!.doneAtMs).not.toBeNull();
  });

  it('says so in one line when its port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const err = await startHistorySink(new HistoryRecorder(), { port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as Error).message).toBe(`the history sink cannot listen on 127.0.0.1:${port}: the port is in use; free it or pick another with --sink-listen HOST:PORT`);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
