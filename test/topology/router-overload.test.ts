// An overloaded instance is slow, not gone: the router must keep sending it requests. Each instance
// here answers one request at a time, /healthz included, as a CPU-bound Node process does (the
// scorecard's throughput phase: 64 connections against langgraph-postgres at ~92 turns/s), so
// under 64 connections a health probe waits behind the queue for longer than its timeout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { startRouter } from '../../src/topology/router.ts';

const SERVICE_MS = 8;
const CONNECTIONS = 64;

/** Serves every request, in arrival order, SERVICE_MS after the previous one finished. */
async function slowInstance(id: string): Promise<{ id: string; url: string; maxQueue: number; close(): Promise<void> }> {
  const queue: Array<() => void> = [];
  let busy = false;
  const state = { maxQueue: 0 };
  const next = () => {
    const job = queue.shift();
    if (!job) {
      busy = false;
      return;
    }
    busy = true;
    setTimeout(() => {
      job();
      next();
    }, SERVICE_MS);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      queue.push(() => {
        res.setHeader('content-type', 'application/json');
        res.end(req.url === '/healthz' ? '{"status":"ok"}' : JSON.stringify({ served: id }));
      });
      state.maxQueue = Math.max(state.maxQueue, queue.length);
      if (!busy) next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    id,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get maxQueue() {
      return state.maxQueue;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('router under overload', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('answers no 502 while every instance is alive and only slow, though its health probes time out', async () => {
    const instances = await Promise.all(['i1', 'i2'].map(slowInstance));
    cleanups.push(async () => void (await Promise.all(instances.map((i) => i.close()))));
    // 32 requests queued per instance × 8 ms ≈ 260 ms before a probe is answered: over its 100 ms timeout.
    const router = await startRouter({ instances, policy: 'round-robin', healthCheck: { intervalMs: 50, timeoutMs: 100 } });
    cleanups.push(() => router.close());
    const pool = new Pool(router.url, { connections: CONNECTIONS });
    cleanups.push(() => pool.close());

    const statuses = new Map<number, number>();
    let firstProblem: string | undefined;
    const end = Date.now() + 2_000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        for (let k = 0; k < 1_000 && Date.now() < end; k++) {
          const res = await pool.request({ method: 'POST', path: `/v1/sessions/c${c}/turns`, headers: { 'content-type': 'application/json' }, body: `{"turnId":"t${k}","content":"x"}` });
          const text = await res.body.text();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode !== 200) firstProblem ??= text;
        }
      }),
    );
    // The overload is real: requests did queue behind each other for longer than a probe waits.
    expect(Math.min(...instances.map((i) => i.maxQueue)) * SERVICE_MS).toBeGreaterThan(100);
    expect(firstProblem).toBeUndefined();
    expect([...statuses.keys()]).toEqual([200]);
    expect(router.health()).toEqual({ i1: true, i2: true });
  });

  it('still takes an instance out when it is gone, and answers 502 only when none is left', async () => {
    const instances = await Promise.all(['i1', 'i2'].map(slowInstance));
    const router = await startRouter({ instances, policy: 'round-robin', healthCheck: { intervalMs: 50, timeoutMs: 1_000 } });
    cleanups.push(() => router.close());
    await instances[0]!.close();
    for (let k = 0; k < 4; k++) {
      const r = await fetch(`${router.url}/v1/sessions/s/turns`, { method: 'POST', body: '{}' });
      expect({ status: r.status, body: await r.text() }).toEqual({ status: 200, body: '{"served":"i2"}' });
    }
    expect(router.health().i1).toBe(false);
    await instances[1]!.close();
    // i2's pooled connection is gone; the probe or the refused connect takes it out within a few rounds.
    const deadline = Date.now() + 3_000;
    while (router.health().i2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const r = await fetch(`${router.url}/v1/sessions/s/turns`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(502);
    expect(((await r.json()) as { code: string }).code).toBe('no_instance_available');
  });
});
