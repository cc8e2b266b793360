import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRouter, sessionIdOf, type Router, type RouterPolicy } from '../../src/topology/router.ts';
import { HashRing } from '../../src/topology/hash-ring.ts';
import { INSTANCE_HEADER } from '../../src/contract/wire.ts';

/** A scripted instance: echoes who it is, the method, path and body it received. */
async function scripted(id: string, port = 0): Promise<{ id: string; url: string; port: number; hits: number; close(): Promise<void> }> {
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      state.hits++;
      if (req.url?.includes('boom')) {
        req.socket.destroy(); // dies after reading the request: it may have been applied
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-state-mode', 'normal');
      res.statusCode = req.url?.includes('missing') ? 404 : 200;
      res.end(JSON.stringify({ served: id, method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const p = (server.address() as AddressInfo).port;
  return {
    id,
    url: `http://127.0.0.1:${p}`,
    port: p,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function call(router: Router, path: string, init: RequestInit = {}) {
  const res = await fetch(router.url + path, init);
  const text = await res.text();
  return { status: res.status, instance: res.headers.get(INSTANCE_HEADER), type: res.headers.get('content-type'), mode: res.headers.get('x-state-mode'), body: text ? JSON.parse(text) : undefined };
}

describe('router', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function world(n: number, policy: RouterPolicy, extra: { healthIntervalMs?: number } = {}) {
    const instances = await Promise.all(Array.from({ length: n }, (_, i) => scripted(`i${i + 1}`)));
    cleanups.push(async () => void (await Promise.all(instances.map((s) => s.close()))));
    const router = await startRouter({ instances, policy, healthCheck: { intervalMs: extra.healthIntervalMs ?? 100, timeoutMs: 500 } });
    cleanups.push(() => router.close());
    return { instances, router };
  }

  it('extracts the session id from contract paths only', () => {
    expect(sessionIdOf('/v1/sessions/abc/turns')).toBe('abc');
    expect(sessionIdOf('/v1/sessions/abc?consistency=eventual')).toBe('abc');
    expect(sessionIdOf('/v1/sessions/abc')).toBe('abc');
    expect(sessionIdOf('/v1/sessions/')).toBeUndefined();
    expect(sessionIdOf('/metrics')).toBeUndefined();
  });

  it('spreads sessions over the ring roughly evenly and moves only a down node\'s keys', () => {
    const ring = new HashRing(['i1', 'i2', 'i3']);
    const owners = Array.from({ length: 3000 }, (_, k) => ring.lookup(`s${k}`));
    const counts = [0, 1, 2].map((n) => owners.filter((o) => o === n).length);
    for (const c of counts) expect(c).toBeGreaterThan(600); // 1000 expected each
    const moved = Array.from({ length: 3000 }, (_, k) => ring.lookup(`s${k}`, (n) => n !== 1));
    owners.forEach((o, k) => {
      if (o !== 1) expect(moved[k]).toBe(o);
      else expect(moved[k]).not.toBe(1);
    });
  });

  it('forwards requests unchanged and names the instance that served them', async () => {
    const { router } = await world(2, 'sticky');
    const r = await call(router, '/v1/sessions/s1/turns?x=1', {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ turnId: 't1', content: 'hi' }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ method: 'POST', url: '/v1/sessions/s1/turns?x=1', auth: 'Bearer t', body: '{"turnId":"t1","content":"hi"}' });
    expect(r.instance).toBe(r.body.served);
    expect(r.mode).toBe('normal');
    const missing = await call(router, '/v1/sessions/missing');
    expect(missing.status).toBe(404);
  });

  it('sticky: one session always goes to one instance, and fails over when it dies', async () => {
    const { router, instances } = await world(3, 'sticky');
    const sessions = Array.from({ length: 30 }, (_, k) => `sess-${k}`);
    const first = new Map<string, string>();
    for (const s of sessions) {
      for (let rep = 0; rep < 3; rep++) {
        const r = await call(router, `/v1/sessions/${s}`);
        if (rep === 0) first.set(s, r.instance!);
        else expect(r.instance).toBe(first.get(s));
      }
    }
    expect(new Set(first.values()).size).toBe(3);
    // Kill the owner of sess-0: its sessions move, the others stay.
    const victimId = first.get('sess-0')!;
    await instances.find((i) => i.id === victimId)!.close();
    // Reads are idempotent, so one that met a pooled connection of the dead instance is retried.
    for (const s of sessions) {
      const r = await call(router, `/v1/sessions/${s}`);
      expect(r.status).toBe(200);
      if (first.get(s) === victimId) expect(r.instance).not.toBe(victimId);
      else expect(r.instance).toBe(first.get(s));
    }
    // Appends to the moved sessions now go straight to their new instance.
    for (const s of sessions) {
      const r = await call(router, `/v1/sessions/${s}/turns`, { method: 'POST', body: '{}' });
      expect(r.status).toBe(200);
      if (first.get(s) === victimId) expect(r.instance).not.toBe(victimId);
    }
    expect(router.health()[victimId]).toBe(false);
  });

  it('sticky: a session returns to its instance once it is healthy again', async () => {
    const { router, instances } = await world(2, 'sticky');
    const owner = (await call(router, '/v1/sessions/back')).instance!;
    const victim = instances.find((i) => i.id === owner)!;
    await victim.close();
    expect((await call(router, '/v1/sessions/back')).instance).not.toBe(owner);
    const again = await scripted(owner, victim.port);
    cleanups.push(() => again.close());
    const deadline = Date.now() + 10_000;
    while (!router.health()[owner] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await call(router, '/v1/sessions/back')).instance).toBe(owner);
  });

  it('round-robin spreads evenly', async () => {
    const { router, instances } = await world(3, 'round-robin');
    for (let k = 0; k < 90; k++) await call(router, '/v1/sessions/same');
    expect(instances.map((i) => i.hits)).toEqual([30, 30, 30]);
    expect(router.served()).toEqual({ i1: 30, i2: 30, i3: 30 });
  });

  it('random is reproducible from its seed and uses every instance', async () => {
    const picks: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { router } = await world(3, 'random');
      const seq: string[] = [];
      for (let k = 0; k < 40; k++) seq.push((await call(router, '/v1/sessions/x')).instance!);
      picks.push(seq);
    }
    expect(picks[0]).toEqual(picks[1]);
    expect(new Set(picks[0]).size).toBe(3);
  });

  it('answers 502 problem+json when no instance answers', async () => {
    const { router, instances } = await world(2, 'round-robin');
    await Promise.all(instances.map((i) => i.close()));
    const r = await call(router, '/v1/sessions/s1', { method: 'POST', body: '{}' });
    expect(r.status).toBe(502);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 502, code: 'no_instance_available' });
  });

  it('never sends a POST twice when the instance failed after receiving it: 502 upstream_error', async () => {
    const { router, instances } = await world(2, 'round-robin');
    const r = await call(router, '/v1/sessions/boom/turns', { method: 'POST', body: '{"turnId":"t1"}' });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ code: 'upstream_error' });
    expect(instances.map((i) => i.hits).reduce((a, b) => a + b)).toBe(1);
  });

  it('drain: the instance gets no new request, not even once its health check passes, and resolves when its request in flight ends', async () => {
    // i1 answers after 400 ms, i2 at once; the health interval (50 ms) passes many times mid-drain.
    const slow = http.createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      setTimeout(() => res.end(JSON.stringify({ served: 'i1' })), 400);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => (slow.close(() => r()), slow.closeAllConnections())));
    const fast = await scripted('i2');
    cleanups.push(() => fast.close());
    const router = await startRouter({
      instances: [{ id: 'i1', url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` }, { id: 'i2', url: fast.url }],
      policy: 'round-robin',
      healthCheck: { intervalMs: 50, timeoutMs: 500 },
    });
    cleanups.push(() => router.close());
    const first = [call(router, '/v1/sessions/a'), call(router, '/v1/sessions/b')];
    await new Promise((r) => setTimeout(r, 50)); // both sent: one is at i1, in flight
    const t0 = Date.now();
    let drained = false;
    const drain = router.drain('i1').then(() => (drained = true));
    const during = [];
    for (let k = 0; k < 6; k++) {
      during.push((await call(router, `/v1/sessions/d${k}`)).instance);
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(during).toEqual(Array(6).fill('i2'));
    await drain;
    expect(drained).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // it waited for i1's answer
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect(router.health()).toMatchObject({ i1: false, i2: true });
    await new Promise((r) => setTimeout(r, 120));
    expect((await call(router, '/v1/sessions/still')).instance).toBe('i2');
    router.undrain('i1');
    const after = await Promise.all([0, 1, 2, 3].map((k) => call(router, `/v1/sessions/u${k}`)));
    expect(after.map((r) => r.instance)).toContain('i1');
    await expect(router.drain('i9')).rejects.toThrow(/no instance 'i9'; it routes to i1, i2/);
  });
});
