/**
 * `k6/http` for one VU: http.asyncRequest (and the k6 helpers that do not send anything), through
 * keep-alive connections owned by the VU (src/engine/connections.ts: the engine's own HTTP/1.1
 * client for http:, undici for https:). k6's synchronous http.get/post/... would block every VU
 * of this single-threaded engine, so they fail fast and name the async form to use instead.
 *
 * Per request: http_reqs, http_req_duration (k6's: from send to the last body byte, i.e. service
 * time), http_req_waiting, http_req_receiving, http_req_failed; and, beside them, the CORRECTED
 * latency measured from when the request would have been sent had the iteration started on its
 * schedule (arrival-rate executors; equal to the service time under closed executors).
 */
import { parseDurationMs } from '../duration.ts';
import type { SeriesRef, Tags } from '../metrics/registry.ts';
import { epochMsAt } from '../test-run.ts';
import type { VU } from '../vu.ts';
import { Response, type RequestInfo } from './response.ts';
import { RequestSeries } from './request-series.ts';
import { exchange } from './transport.ts';
import { UnsupportedFeatureError, unsupported } from './unsupported.ts';
import { failureReason } from '../failure-reasons.ts';

export const HTTP_DEFAULTS = Object.freeze({
  timeoutMs: 60_000,
  maxRedirects: 10,
  userAgent: 'stateproof-engine (k6-compatible)',
  /**
   * A response body beyond this is not read further: the request fails with error_code 1000 instead
   * of the engine's memory growing with whatever a broken target sends. k6 has no such bound.
   */
  maxBodyBytes: 16 * 1024 * 1024,
});

/** k6's code for a blocked host (blockHostnames); used for a redirect off the request's origin, which is never followed. */
export const REDIRECT_OFF_ORIGIN_CODE = 1111;

export interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  timeout?: string | number;
  responseType?: 'text' | 'binary' | 'none';
  redirects?: number;
  responseCallback?: ExpectedStatuses | null;
  [k: string]: unknown;
}

export class ExpectedStatuses {
  constructor(private readonly ranges: Array<[number, number]>) {}
  has(status: number): boolean {
    return this.ranges.some(([a, b]) => status >= a && status <= b);
  }
}

export function expectedStatuses(...args: Array<number | { min: number; max: number }>): ExpectedStatuses {
  return new ExpectedStatuses(args.map((a) => (typeof a === 'number' ? [a, a] : [a.min, a.max])));
}

const DEFAULT_EXPECTED = expectedStatuses({ min: 200, max: 399 });
const KNOWN_PARAMS = new Set(['headers', 'tags', 'timeout', 'responseType', 'redirects', 'responseCallback']);

/** k6's error codes (lib/netext/httpext/error_codes.go) for the failures undici reports. */
function errorCode(e: unknown): { code: number; message: string } {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.message ?? String(e);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return { code: 1050, message: 'request timeout' };
  if (code === 'ECONNREFUSED') return { code: 1212, message };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { code: 1220, message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { code: 1101, message };
  return { code: 1000, message };
}

function encodeBody(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'object') return new URLSearchParams(Object.entries(body as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return String(body);
}

/** Scripts hit few distinct URLs per origin+path shape; parsing each once saves a URL object per request. */
const parsedUrls = new Map<string, { origin: string; path: string }>();
function parseUrl(url: string): { origin: string; path: string } {
  let p = parsedUrls.get(url);
  if (p) return p;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`http.asyncRequest: invalid URL "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`http.asyncRequest: unsupported URL scheme in "${url}"`);
  p = { origin: u.origin, path: u.pathname + u.search };
  if (parsedUrls.size >= 10_000) parsedUrls.clear();
  parsedUrls.set(url, p);
  return p;
}

export function createHttp(vu: VU) {
  const run = vu.run;
  let responseCallback: ExpectedStatuses | null = DEFAULT_EXPECTED;
  const series = new RequestSeries(run);
  const userAgent = typeof run.options.userAgent === 'string' ? run.options.userAgent : HTTP_DEFAULTS.userAgent;

  async function send(method: string, url: string, body: string | Buffer | undefined, params: Params, hop: number): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': userAgent };
    if (params.headers) for (const [k, v] of Object.entries(params.headers)) headers[k.toLowerCase()] = String(v);
    const timeoutMs = params.timeout === undefined ? HTTP_DEFAULTS.timeoutMs : parseDurationMs(params.timeout, 'params.timeout');
    const res = new Response(url, (): RequestInfo => ({
      method,
      url,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      body: typeof body === 'string' ? body : body ? body.toString('latin1') : '',
      cookies: {},
    }));
    const parsed = parseUrl(url);

    // Tagged as of the call (group, phase and VU tags may change while the response is awaited).
    const base = vu.baseTags();
    const t0 = performance.now();
    const intendedAt = epochMsAt(t0) - vu.lagMs;
    let tHeaders = t0;
    const epoch = vu.epoch;
    vu.hold();
    try {
      const type = run.discardResponseBodies ? 'none' : (params.responseType ?? 'text');
      const r = await exchange(vu.pool(parsed.origin), { method, path: parsed.path, headers, body, timeoutMs, bodyType: type, maxBodyBytes: HTTP_DEFAULTS.maxBodyBytes, sentAt: t0 }, res);
      tHeaders = r.headersAt;
      if (type !== 'none') res.body = r.body;
      if (r.headers['set-cookie'] !== undefined) run.warnOnce('cookies', "responses set cookies, but the built-in engine has no per-VU cookie jar (k6 would send them back)");
    } catch (e) {
      if (vu.epoch !== epoch || run.stopping) throw Object.assign(new Error('iteration interrupted'), { name: 'AbortError' });
      const { code, message } = errorCode(e);
      res.status = 0;
      tHeaders = performance.now();
      res.error = message;
      res.error_code = code;
    } finally {
      vu.release();
    }
    const tEnd = performance.now();
    res.timings.waiting = tHeaders - t0;
    res.timings.receiving = tEnd - tHeaders;
    res.timings.duration = tEnd - t0;

    // A redirect is followed only on the origin (scheme, host, port) it came from: a target must not
    // be able to send the load anywhere else. One that points elsewhere is answered as it is, failed.
    const maxRedirects = params.redirects ?? HTTP_DEFAULTS.maxRedirects;
    const location = res.headers.Location;
    let next: URL | undefined;
    if (location && [301, 302, 303, 307, 308].includes(res.status) && hop < maxRedirects) {
      try {
        next = new URL(location, url);
      } catch {
        res.error = `redirect Location "${location.slice(0, 200)}" is not a URL: not followed`;
        res.error_code = 1020;
      }
      if (next && next.origin !== parsed.origin) {
        res.error = `redirect to ${next.origin} not followed: the built-in engine follows redirects only on the request's own origin (${parsed.origin})`;
        res.error_code = REDIRECT_OFF_ORIGIN_CODE;
        next = undefined;
      }
    }
    const cb = params.responseCallback === undefined ? responseCallback : params.responseCallback;
    const expected = cb ? !res.error_code && cb.has(res.status) : undefined;
    const { tags, ref } = series.of(base, { method, url, name: params.tags?.name, paramsTags: params.tags, status: res.status, errorCode: res.error_code, expected });
    record(tags, ref, res, epochMsAt(tEnd) - intendedAt, expected);
    if (expected === false || res.error_code) run.failureReasons.add(failureReason(res, parsed.origin), method, url);

    if (next) {
      const keep = res.status === 307 || res.status === 308;
      return send(keep ? method : method === 'HEAD' ? 'HEAD' : 'GET', next.toString(), keep ? body : undefined, params, hop + 1);
    }
    return res;
  }

  function record(tags: Tags, series: SeriesRef, res: Response, correctedMs: number, expected: boolean | undefined): void {
    const reg = run.registry;
    const m = run.m;
    run.requests++;
    if (expected === false || res.error_code) run.requestErrors++;
    reg.add(m.http_reqs, 1, tags, series);
    reg.add(m.http_req_duration, res.timings.duration, tags, series);
    reg.add(m.http_req_waiting, res.timings.waiting, tags, series);
    reg.add(m.http_req_receiving, res.timings.receiving, tags, series);
    if (expected !== undefined) reg.add(m.http_req_failed, expected ? 0 : 1, tags, series);
    reg.addCorrected('http_req_duration', correctedMs, series);
  }

  function asyncRequest(method: string, url: unknown, body?: unknown, params?: Params | null): Promise<Response> {
    try {
      return request(method, url, body, params);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  function request(method: string, url: unknown, body?: unknown, params?: Params | null): Promise<Response> {
    const p = params ?? {};
    for (const key of Object.keys(p)) {
      if (!KNOWN_PARAMS.has(key)) throw new UnsupportedFeatureError(`http params.${key}`);
    }
    if (typeof url !== 'string') throw new UnsupportedFeatureError('http.url`...` tagged URLs and non-string URLs');
    if (run.stopping) throw Object.assign(new Error('test is stopping'), { name: 'AbortError' });
    if (vu.sleepUntilMs > 0) return vu.owedSleep().then(() => request(method, url, body, params));
    const m = String(method).toUpperCase();
    const encoded = encodeBody(body);
    if (body && typeof body === 'object' && !(body instanceof ArrayBuffer) && !ArrayBuffer.isView(body)) {
      const headers = { ...(p.headers ?? {}) };
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      return send(m, url, encoded, { ...p, headers }, 0);
    }
    return send(m, url, encoded, p, 0);
  }

  const syncHint = (name: string) =>
    unsupported(`synchronous http.${name}()`, `use \`await http.asyncRequest('${name === 'del' ? 'DELETE' : name.toUpperCase()}', url, body, params)\` (works under real k6 too)`);

  const http = {
    asyncRequest,
    expectedStatuses,
    setResponseCallback(cb: ExpectedStatuses | null) {
      responseCallback = cb;
    },
    get: syncHint('get'),
    post: syncHint('post'),
    put: syncHint('put'),
    patch: syncHint('patch'),
    del: syncHint('del'),
    head: syncHint('head'),
    options: syncHint('options'),
    request: unsupported('synchronous http.request()', 'use `await http.asyncRequest(method, url, body, params)`'),
    batch: unsupported('http.batch()', 'use Promise.all over http.asyncRequest calls'),
    file: unsupported('http.file()'),
    cookieJar: unsupported('http.cookieJar()'),
    url: unsupported('http.url`...`'),
    TLS_1_0: 'tls1.0',
    TLS_1_1: 'tls1.1',
    TLS_1_2: 'tls1.2',
    TLS_1_3: 'tls1.3',
    OCSP_STATUS_GOOD: 'good',
  };
  return http;
}
