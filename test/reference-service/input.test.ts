import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { Client, redisClient, service, sleep, startRedisServer, TOKEN_B, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

let redis: RedisServer;
let raw: Redis;
let svc: ServiceHandle;
let c: Client;
beforeAll(async () => {
  redis = await startRedisServer();
  raw = await redisClient(redis);
  svc = await service(redis, { maxBodyBytes: 4_096 });
  c = new Client(svc.url);
});
afterAll(async () => {
  raw?.disconnect();
  await svc?.close();
  await redis?.stop();
});

/** Every command Redis receives while `fn` runs (MONITOR), minus the monitor's own. */
async function commandsDuring(fn: () => Promise<void>): Promise<string[]> {
  const monitor = await raw.monitor();
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => seen.push(args.join(' ')));
  await sleep(50);
  await fn();
  await sleep(100);
  monitor.disconnect();
  return seen;
}

/** Raw HTTP, for what fetch refuses to send (CR/LF, NUL in the request line). */
function rawHttp(requestText: string): Promise<string> {
  const { port } = new URL(svc.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(requestText));
    let out = '';
    s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

const badIds = ['..', '..%2F..%2Fetc', '%2e%2e', 'a%0d%0aSET', 'a%00b', 'a*', 'a%3F', 'a%3Fb=1', 'a%5Bb%5D', '*', 'x'.repeat(10_240), '%20', 'sp:{tenant-b}:session:x'];

describe('bad input never reaches the store', () => {
  it('answers 4xx problem+json for hostile session ids, bodies and tokens, and issues no Redis command', async () => {
    const answers: Array<{ what: string; status: number; code: string; type: string | null }> = [];
    const note = (what: string, a: { status: number; body: any; headers: Headers }) =>
      answers.push({ what, status: a.status, code: a.body?.code, type: a.headers.get('content-type') });
    const seen = await commandsDuring(async () => {
      for (const id of badIds) {
        note(`read ${id.slice(0, 20)}`, await c.read(id));
        note(`append ${id.slice(0, 20)}`, await c.append(id, 't1', 'x'));
        note(`delete ${id.slice(0, 20)}`, await c.remove(id));
      }
      const post = (body: string, headers: Record<string, string> = {}) => c.request('POST', '/v1/sessions/ok/turns', { body, headers });
      note('malformed json', await post('{"turnId": "a", "content": '));
      note('array body', await post('[1,2]'));
      note('wrong type', await post('{"turnId": 5, "content": "x"}'));
      note('missing field', await post('{"turnId": "a"}'));
      note('unknown field', await post('{"turnId": "a", "content": "x", "admin": true}'));
      note('proto field', await post('{"turnId": "a", "content": "x", "__proto__": {"x": 1}}'));
      note('bad turn id', await post('{"turnId": "a b*", "content": "x"}'));
      note('huge turn id', await post(JSON.stringify({ turnId: 'x'.repeat(1_000), content: 'x' })));
      note('oversized body', await post(JSON.stringify({ turnId: 'a', content: 'x'.repeat(10_000) })));
      note('not json type', await post('{"turnId": "a", "content": "x"}', { 'content-type': 'text/plain' }));
      note('bad if-match', await post('{"turnId": "a", "content": "x"}', { 'if-match': 'abc' }));
      note('bad query', await c.request('GET', '/v1/sessions/ok?consistency=whatever'));
      note('unknown query', await c.request('GET', '/v1/sessions/ok?debug=1'));
      note('no token', await new Client(svc.url, null).read('ok'));
      note('unknown token', await new Client(svc.url, 'nobody').read('ok'));
      note('not bearer', await c.request('GET', '/v1/sessions/ok', { headers: { authorization: 'Basic abc' } }));
      note('unknown route', await c.request('GET', '/v1/other'));
      note('nested route', await c.request('GET', '/v1/sessions/a/b'));
      note('wrong method', await c.request('PUT', '/v1/sessions/ok'));
    });
    expect(answers.filter((a) => a.status < 400 || a.code === 'session_not_found')).toEqual([]);
    expect(seen).toEqual([]);
    for (const a of answers) {
      expect(a.status, a.what).toBeGreaterThanOrEqual(400);
      expect(a.status, a.what).toBeLessThan(500);
      expect(a.type, a.what).toContain('application/problem+json');
      expect(typeof a.code, a.what).toBe('string');
    }
    const codeOf = (what: string) => answers.find((a) => a.what === what)?.code;
    expect(codeOf('malformed json')).toBe('malformed_json');
    expect(codeOf('unknown field')).toBe('invalid_body');
    expect(codeOf('proto field')).toBe('invalid_body');
    expect(codeOf('oversized body')).toBe('body_too_large');
    expect(codeOf('no token')).toBe('unauthorized');
    expect(codeOf('unknown token')).toBe('invalid_token');
    expect(codeOf('wrong method')).toBe('method_not_allowed');
    expect(codeOf(`read ${'x'.repeat(20)}`)).toBe('invalid_session_id');
  });

  it('rejects a raw CR or NUL in the request line without touching the store', async () => {
    const seen = await commandsDuring(async () => {
      const a = await rawHttp('GET /v1/sessions/a\rb HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tenant-a-token\r\nConnection: close\r\n\r\n');
      const b = await rawHttp('GET /v1/sessions/a\u0000b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tenant-a-token\r\nConnection: close\r\n\r\n');
      expect(a).toMatch(/^HTTP\/1\.1 4\d\d/);
      expect(b).toMatch(/^HTTP\/1\.1 4\d\d/);
    });
    expect(seen).toEqual([]);
  });
});

describe('tenancy', () => {
  it('namespaces keys by tenant; another tenant sees 404 and cannot delete or append into it', async () => {
    await c.append('shared-name', 'a', 'tenant a secret');
    const b = new Client(svc.url, TOKEN_B);
    const r = await b.read('shared-name');
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain('secret');
    expect((await b.remove('shared-name')).status).toBe(404);
    await b.append('shared-name', 'a', 'tenant b own');
    expect((await c.read('shared-name')).body.turns.map((t: { user: string }) => t.user)).toEqual(['tenant a secret']);
    expect((await raw.keys('sp:*shared-name*')).sort()).toEqual([
      'sp:{tenant-a:shared-name}:session',
      'sp:{tenant-a:shared-name}:turnids',
      'sp:{tenant-b:shared-name}:session',
      'sp:{tenant-b:shared-name}:turnids',
    ]);
  });

  it('deletes a session (204), then 404', async () => {
    await c.append('gone', 'a', 'x');
    const d = await c.remove('gone');
    expect(d.status).toBe(204);
    expect(d.headers.get('x-state-mode')).toBe('normal');
    expect((await c.read('gone')).status).toBe(404);
    expect((await c.remove('gone')).status).toBe(404);
    expect(await raw.exists('sp:{tenant-a}:turnids:gone')).toBe(0);
  });
});

describe('backpressure', () => {
  it('answers 503 overloaded with Retry-After beyond --max-inflight', async () => {
    const slow = await service(redis, { maxInflight: 4, modelLatencyMs: 300 });
    try {
      const s = new Client(slow.url);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => s.append(`bp${i}`, 't', 'x')));
      const over = answers.filter((a) => a.status === 503);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(4);
      expect(over.length).toBeGreaterThanOrEqual(1);
      for (const o of over) {
        expect(o.body.code).toBe('overloaded');
        expect(o.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await slow.close();
    }
  });
});
