/**
 * Property-based fuzzing of the reference service's HTTP API against a real redis-server.
 *
 * Every generated request is well-framed HTTP/1.1 (malformed framing is the last test) with
 * random and adversarial methods, paths, session ids, tokens, If-Match values, content types,
 * extra headers and bodies. Invariants, checked after every request:
 *   - an answer comes, within 10 s; its status is 2xx or 4xx (never 5xx: Redis is healthy);
 *   - errors are application/problem+json with a string `code` and the matching `status`;
 *   - every answer says X-State-Mode;
 *   - a rejected request (4xx) changes no key; an accepted one changes only its own session's keys;
 *   - no key outside `sp:{<tenant>:<valid id>}:(session|turnids)` ever exists (SCAN);
 *   - tenant b never sees tenant a's data;
 * and over the whole run: the heap the process retains (after GC) grows by less than a generous
 * bound (the service's caches are bounded; RSS alone also counts pages V8 keeps after a burst), and the service
 * still answers a normal append and read.
 *
 * Exactly RUNS cases, counted: past the time limit (45 s) the test fails, naming how many ran,
 * rather than passing with fewer. 500 cases took about 9 s on 2 cores at load average 17.
 *
 * STATEPROOF_FUZZ_LONG=1 runs 20x more cases; STATEPROOF_FUZZ_SEED replays another seed.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceHandle } from '../../reference-service/service.ts';
import { sessionKey, turnIdsKey } from '../../reference-service/store/keys.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { fuzzParameters, fuzzRuns, fuzzSeed, fuzzTestTimeoutMs, retainedHeapBytes } from './fixtures/fuzz.ts';
import { rawRequest, type RawResponse } from './fixtures/raw-http.ts';
import { allKeys, changedKeys, snapshotStore } from './fixtures/store-snapshot.ts';
import { Redis as IORedis } from 'ioredis';

const SEED = fuzzSeed(90_210);
const RUNS = fuzzRuns(500);
const MAX_BODY_BYTES = 64 * 1024;
const HEAP_GROWTH_LIMIT_BYTES = 128 * 1024 * 1024;
const TENANT_A_MARKER = 'tenant-a-private-marker-7f3a';
const TOKENS: Record<string, string> = { 'tenant-a-token': 'tenant-a', 'tenant-b-token': 'tenant-b' };
const NAMESPACED_KEY = /^sp:\{(tenant-a|tenant-b):[A-Za-z0-9][A-Za-z0-9_-]{0,127}\}:(session|turnids)$/;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

// ---- arbitraries -------------------------------------------------------------------------------

/**
 * Percent-encodes what may not appear raw in a request-target (RFC 3986 pchar), so the request is
 * well-framed HTTP; raw bytes outside it are the framing test's business.
 */
const pathSafe = (s: string) => s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@%]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`));
const printable = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const anyText = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }));

const validId = fc.oneof(fc.constantFrom('base', 's1', 's2', 'A-b_c'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,12}$/));
const hostileId = fc.constantFrom(
  '..', '../..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', '.', 'a%0d%0aSET%20x%201', 'a%0aDEL%20*', 'a%00b', '%00',
  '*', 'a*', '%2A', 'a%3Fb', '?', '[ab]', '%5Bab%5D', 'a[^b]', '{tenant-b}', '%7Btenant-b%7D', '}',
  'sp:{tenant-b}:session:base', 'sp%3A%7Btenant-b%7D%3Asession%3Abase', 'base:x', "a'b", 'a"b', 'a;b', 'a,b', 'a%20b',
  '-leading-dash', '_leading', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(5_000), '%C3%A9', 'é', 'base%2Fturns', '\u2028', 'a\u0000b', 'a\r\nb',
).map(pathSafe);
const sessionSegment = fc.oneof(
  { weight: 4, arbitrary: validId },
  { weight: 3, arbitrary: hostileId },
  { weight: 2, arbitrary: anyText(40).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9*?[\]{}:'!$&()+,;=@~.^|-]{1,20}$/).map(pathSafe) },
);
const query = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.constantFrom('?consistency=strong', '?consistency=bounded', '?consistency=eventual') },
  { weight: 2, arbitrary: fc.constantFrom('?', '?consistency=', '?consistency=STRONG', '?consistency=strong&consistency=eventual', '?debug=1', '?&&', '?consistency=strong%00') },
  { weight: 1, arbitrary: anyText(30).map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`) },
);
const path = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(sessionSegment, query).map(([id, q]) => `/v1/sessions/${id}${q}`) },
  { weight: 6, arbitrary: sessionSegment.map((id) => `/v1/sessions/${id}/turns`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/v1/sessions/', '/v1/sessions', '/v1/sessions//turns', '/v1/sessions/base/turns/x', '/v1/sessions/base/../../metrics',
      '/v1/sessions/base/turns?x=1', '/metrics', '/healthz', '/readyz', '/metrics?x', '/', '/v2/sessions/base', '//v1/sessions/base',
      '/v1/sessions/base/', '/v1/sessions/base%2fturns', '*',
    ),
  },
  { weight: 1, arbitrary: anyText(60).map((s) => `/${encodeURIComponent(s)}`) },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE') },
);
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant('Bearer tenant-a-token') },
  { weight: 3, arbitrary: fc.constant('Bearer tenant-b-token') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', 'bearer tenant-a-token', 'BEARER  tenant-a-token  ', 'Bearer tenant-a-token tenant-b-token',
      'Basic dXNlcjpwYXNz', 'Bearer tenant-a-token\u00ff', 'Token tenant-a-token', 'Bearer tenant-a', 'Bearer *', `Bearer ${'a'.repeat(8_000)}`),
  },
  { weight: 1, arbitrary: printable(60).map((s) => `Bearer ${s}`) },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(undefined, 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/jsonp', 'application/problem+json',
      'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json;charset=utf-16', ''),
  },
  { weight: 1, arbitrary: printable(40) },
);
const ifMatch = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.nat({ max: 12 }).chain((n) => fc.constantFrom(String(n), `"${n}"`, `W/"${n}"`, ` ${n} `)) },
  { weight: 2, arbitrary: fc.constantFrom('*', '-1', '1.5', '1e3', '0x10', '99999999999999999999', '', '"', 'W/', '"1", "2"', 'NaN', 'Infinity') },
  { weight: 1, arbitrary: printable(30) },
);
const extraHeaders = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom('X-Forwarded-For', 'Cookie', 'X-Stateproof-Instance', 'Accept', 'X-Tenant', 'Origin', 'X-Request-Id'), fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/)),
    fc.oneof(printable(80), fc.constantFrom('tenant-b', '../../etc', 'sp:{tenant-b}:*', `${'v'.repeat(4_000)}`)),
  ),
  { maxLength: 4 },
);
const turnId = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,24}$/) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', 'a b', 'a*', '../x', 'a\r\nb', 'a\u0000b', 'x'.repeat(129), '{tenant-b}', 't1', 't2') },
  { weight: 1, arbitrary: anyText(30) },
);
const content = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 7_000, max: 20_000 }).map((n) => 'c'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => `remember: ${s}`) },
);
const body = fc.oneof(
  { weight: 8, arbitrary: fc.record({ turnId, content }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyText(100) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '', '{', '[', '{"turnId":', '{"turnId":"a","content":"x"', 'null', 'true', '1e309', '"str"', '[]', '{}',
      '{"turnId":"a","content":null}', '{"turnId":"a","content":"x","turnId":"b"}', '{"__proto__":{"turnId":"a"},"content":"x"}',
      '{"turnId":"a","content":"x","__proto__":{"admin":true}}', '{"turnId":"a","content":"x","constructor":{"prototype":{"x":1}}}',
      '\ufeff{"turnId":"bom","content":"x"}', '{"turnId":"a","content":{"nested":"x"}}', '{"turnId":["a"],"content":"x"}',
      '['.repeat(50_000), '{"a":'.repeat(20_000), `{"turnId":"big","content":"${'x'.repeat(MAX_BODY_BYTES)}"}`,
    ),
  },
);

interface FuzzRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  ifMatch: string | undefined;
  extra: Array<[string, string]>;
  body: string | undefined;
}

const wild: fc.Arbitrary<FuzzRequest> = fc.record({ method, path, authorization, contentType, ifMatch, extra: extraHeaders, body });

/** A well-formed contract call (so accepted writes, conflicts and reads happen too) ... */
const plausible: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom('append', 'append', 'append', 'read', 'delete'),
    validId,
    fc.constantFrom('Bearer tenant-a-token', 'Bearer tenant-b-token'),
    fc.option(fc.nat({ max: 12 }).map(String), { freq: 3 }),
    fc.record({ turnId: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,16}$/), content: fc.string({ maxLength: 200 }) }).map((b) => JSON.stringify(b)),
  )
  .map(([op, id, auth, match, b]): FuzzRequest => ({
    method: op === 'append' ? 'POST' : op === 'read' ? 'GET' : 'DELETE',
    path: op === 'append' ? `/v1/sessions/${id}/turns` : `/v1/sessions/${id}`,
    authorization: auth,
    contentType: 'application/json',
    ifMatch: op === 'append' ? (match ?? undefined) : undefined,
    extra: [],
    body: op === 'append' ? b : undefined,
  }));

/** ... with one part of it swapped for a random or hostile one. */
const mutated: fc.Arbitrary<FuzzRequest> = fc.tuple(plausible, wild, fc.constantFrom<keyof FuzzRequest>('method', 'path', 'authorization', 'contentType', 'ifMatch', 'extra', 'body')).map(([p, w, k]) => ({ ...p, [k]: w[k] }));

const request: fc.Arbitrary<FuzzRequest> = fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 5, arbitrary: mutated }, { weight: 3, arbitrary: wild });

function headersOf(r: FuzzRequest): Array<[string, string]> {
  const h: Array<[string, string]> = [];
  if (r.authorization !== undefined) h.push(['Authorization', r.authorization]);
  if (r.contentType !== undefined) h.push(['Content-Type', r.contentType]);
  if (r.ifMatch !== undefined) h.push(['If-Match', r.ifMatch]);
  h.push(...r.extra);
  return h;
}

/** The tenant and session a request addresses, when its token and id are valid: the only keys it may change. */
function allowedKeys(r: FuzzRequest): string[] {
  const m = /^\/v1\/sessions\/([^/?]*)(?:\/turns)?(?:\?.*)?$/.exec(r.path);
  const token = /^Bearer\s+(\S+)\s*$/i.exec(r.authorization ?? '')?.[1];
  const tenant = token === undefined ? undefined : TOKENS[token];
  if (!m || !tenant || !SESSION_ID.test(m[1]!)) return [];
  return [sessionKey(tenant, m[1]!), turnIdsKey(tenant, m[1]!)];
}

// ---- the test ----------------------------------------------------------------------------------

let redis: RedisServer;
let raw: Redis;
let svc: ServiceHandle;

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
  svc = await startService({ redisUrl: redis.url, port: 0, modelLatencyMs: 0, storeTimeoutMs: 2_000, maxBodyBytes: MAX_BODY_BYTES });
  // Known state in both tenants, so reads, conflicts and deletes have something to act on.
  for (let i = 1; i <= 3; i++) {
    const a = await rawRequest(svc.port, post('tenant-a-token', 'base', `seed-${i}`, `${TENANT_A_MARKER} ${i}`));
    expect(a.status).toBe(200);
  }
  expect((await rawRequest(svc.port, post('tenant-b-token', 'b-own', 'seed-1', 'tenant b'))).status).toBe(200);
});

afterAll(async () => {
  raw?.disconnect();
  await svc?.close();
  await redis?.stop();
});

function post(token: string, session: string, turn: string, text: string) {
  return {
    method: 'POST',
    path: `/v1/sessions/${session}/turns`,
    headers: [['Authorization', `Bearer ${token}`], ['Content-Type', 'application/json']] as Array<[string, string]>,
    body: JSON.stringify({ turnId: turn, content: text }),
  };
}

function describeAnswer(r: FuzzRequest, a: RawResponse): string {
  return `${r.method} ${r.path.slice(0, 120)} → ${a.status} ${a.headers['content-type'] ?? ''} ${a.body.slice(0, 200)}`;
}

describe('reference service under random and adversarial requests', () => {
  it(`answers every request 2xx/4xx with problem+json errors, changes nothing when it rejects, and writes only in its tenant's namespace (${RUNS} requests, seed ${SEED})`, { timeout: fuzzTestTimeoutMs }, async () => {
    const heapBefore = retainedHeapBytes();
    const rssBefore = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    let cases = 0;
    const startedAt = performance.now();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        cases++;
        const before = await snapshotStore(raw);
        const a = await rawRequest(svc.port, { method: r.method, path: r.path, headers: headersOf(r), body: r.body });
        const after = await snapshotStore(raw);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const what = describeAnswer(r, a);

        if (!(a.status >= 200 && a.status < 500)) throw new Error(`status outside 2xx/4xx: ${what}`);
        if (!/^(normal|degraded)$/.test(a.headers['x-state-mode'] ?? '')) throw new Error(`no X-State-Mode: ${what}`);
        if (a.status >= 400) {
          if (!(a.headers['content-type'] ?? '').startsWith('application/problem+json')) throw new Error(`error without problem+json: ${what}`);
          if (r.method !== 'HEAD') {
            const p = JSON.parse(a.body) as { code?: unknown; status?: unknown };
            if (typeof p.code !== 'string' || p.status !== a.status) throw new Error(`problem body without code/status: ${what}`);
          }
        }
        const changed = changedKeys(before, after);
        if (a.status >= 400 && changed.length) throw new Error(`a rejected request changed ${changed.join(', ')}: ${what}`);
        const allowed = new Set(allowedKeys(r));
        const stray = changed.filter((k) => !allowed.has(k));
        if (stray.length) throw new Error(`changed keys outside the addressed session: ${stray.join(', ')}: ${what}`);
        for (const k of after.keys()) if (!NAMESPACED_KEY.test(k)) throw new Error(`key outside the tenant namespaces: ${JSON.stringify(k)} after ${what}`);
        if (r.authorization?.includes('tenant-b-token') && a.body.includes(TENANT_A_MARKER)) throw new Error(`tenant b saw tenant a's data: ${what}`);
      }),
      fuzzParameters(SEED, RUNS),
    );
    expect(cases, 'cases run').toBe(RUNS);
    if (process.env.STATEPROOF_FUZZ_VERBOSE) console.log(`${cases} cases in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    if (process.env.STATEPROOF_FUZZ_VERBOSE) console.log(JSON.stringify([...statuses].sort()));
    // The generators reach both sides: accepted writes and rejections.
    const count = (f: (s: number) => boolean) => [...statuses].filter(([s]) => f(s)).reduce((n, [, c]) => n + c, 0);
    expect(count((s) => s >= 200 && s < 300)).toBeGreaterThan(RUNS / 20);
    expect(count((s) => s >= 400)).toBeGreaterThan(RUNS / 5);

    for (const k of await allKeys(raw)) expect(k).toMatch(NAMESPACED_KEY);
    const growth = retainedHeapBytes() - heapBefore;
    if (process.env.STATEPROOF_FUZZ_VERBOSE) console.log(`retained heap grew by ${(growth / 1e6).toFixed(1)} MB, RSS by ${((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(0)} MB`);
    expect(growth, `retained heap grew by ${(growth / 1e6).toFixed(0)} MB`).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);

    // Still healthy afterwards.
    const ok = await rawRequest(svc.port, post('tenant-a-token', 'after-fuzz', 'final', 'still here'));
    expect(ok.status).toBe(200);
    const read = await rawRequest(svc.port, { method: 'GET', path: '/v1/sessions/after-fuzz', headers: [['Authorization', 'Bearer tenant-a-token']] });
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body).turns.map((t: { turnId: string }) => t.turnId)).toEqual(['final']);
  });

  it('answers malformed HTTP framing with a 4xx (from the HTTP parser) and touches nothing', async () => {
    const port = svc.port;
    expect((await rawRequest(port, post('tenant-a-token', 'framing', 't1', 'x'))).status).toBe(200);
    const before = await snapshotStore(raw);
    const auth = 'Authorization: Bearer tenant-a-token\r\n';
    const malformed = [
      `GET /v1/sessions/a\rb HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `GET /v1/sessions/a\u0000b HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `GET /v1/sessions/\u00e9 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `GET /v1/sessions/a b HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `FROB /v1/sessions/base HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `GET /v1/sessions/base HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n${auth}\r\n`,
      `GET /v1/sessions/base HTTP/1.1\r\nHost: x\r\nNo colon here\r\n${auth}\r\n`,
      `GET /v1/sessions/base HTTP/1.1\r\nHost: x\r\n${'X-Pad: ' + 'p'.repeat(20_000)}\r\n${auth}\r\n`,
      `POST /v1/sessions/base/turns HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /v1/sessions/base/turns HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
      `POST /v1/sessions/base/turns HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      `GET /v1/sessions/base HTTP/9.9\r\nHost: x\r\n${auth}\r\n`,
    ];
    for (const text of malformed) {
      const answer = await sendRaw(port, text);
      expect(answer, JSON.stringify(text.slice(0, 60))).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect(changedKeys(before, await snapshotStore(raw))).toEqual([]);
    const ok = await rawRequest(port, { method: 'GET', path: '/v1/sessions/framing', headers: [['Authorization', 'Bearer tenant-a-token']] });
    expect(ok.status).toBe(200);
  });
});


async function sendRaw(port: number, text: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within 10 s to ${JSON.stringify(text.slice(0, 60))}`));
    }, 10_000);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
