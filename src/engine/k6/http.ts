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
import { CookieJar, K6CookieJar } from './cookie-jar.ts';
import { digestAuthorization } from './digest-auth.ts';
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
const KNOWN_PARAMS = new Set(['headers', 'tags', 'timeout', 'responseType', 'redirects', 'responseCallback', 'cookies', 'jar', 'auth']);

/** Node's codes for a certificate no trusted authority signed (k6: x509.UnknownAuthorityError). */
const UNKNOWN_AUTHORITY = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED']);

/** k6's error codes (lib/netext/httpext/error_codes.go) for the failures undici reports. */
function errorCode(e: unknown): { code: number; message: string } {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.message ?? String(e);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return { code: 1050, message: 'request timeout' };
  if (code === 'ECONNREFUSED') return { code: 1212, message };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { code: 1220, message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { code: 1101, message };
  if (UNKNOWN_AUTHORITY.has(code)) return { code: 1310, message: 'x509: unknown authority' };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { code: 1311, message: "x509: certificate doesn't match hostname" };
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_')) return { code: 1300, message };
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

interface ParsedUrl {
  origin: string;
  path: string;
  /** The URL itself, for cookie matching. */
  url: URL;
  /** `user:password` from the URL, decoded (k6 sends it as basic auth, or digest with params.auth). */
  userinfo?: string;
}

/** Scripts hit few distinct URLs per origin+path shape; parsing each once saves a URL object per request. */
const parsedUrls = new Map<string, ParsedUrl>();
function parseUrl(url: string): ParsedUrl {
  let p = parsedUrls.get(url);
  if (p) return p;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`http.asyncRequest: invalid URL "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`http.asyncRequest: unsupported URL scheme in "${url}"`);
  p = { origin: u.origin, path: u.pathname + u.search, url: u };
  if (u.username || u.password) p.userinfo = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  if (parsedUrls.size >= 10_000) parsedUrls.clear();
  parsedUrls.set(url, p);
  return p;
}

export function createHttp(vu: VU) {
  const run = vu.run;
  let responseCallback: ExpectedStatuses | null = DEFAULT_EXPECTED;
  const series = new RequestSeries(run);
  const userAgent = typeof run.options.userAgent === 'string' ? run.options.userAgent : HTTP_DEFAULTS.userAgent;
  const maxRedirectsDefault = typeof run.options.maxRedirects === 'number' ? run.options.maxRedirects : HTTP_DEFAULTS.maxRedirects;
  const vuJar = new K6CookieJar();

  async function send(method: string, url: string, body: string | Buffer | undefined, params: Params, hop: number, authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': userAgent };
    if (params.headers) for (const [k, v] of Object.entries(params.headers)) headers[k.toLowerCase()] = String(v);
    const parsed = parseUrl(url);
    const jar = params.jar instanceof CookieJar ? params.jar : vuJar;
    const sentCookies = withCookies(headers, parsed.url, jar, params.cookies);
    if (authorization !== undefined) headers.authorization = authorization;
    else if (parsed.userinfo !== undefined && params.auth !== 'digest' && headers.authorization === undefined) {
      headers.authorization = `Basic ${Buffer.from(parsed.userinfo).toString('base64')}`;
    }
    const timeoutMs = params.timeout === undefined ? HTTP_DEFAULTS.timeoutMs : parseDurationMs(params.timeout, 'params.timeout');
    const res = new Response(url, (): RequestInfo => ({
      method,
      url,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      body: typeof body === 'string' ? body : body ? body.toString('latin1') : '',
      cookies: sentCookies,
    }));

    // Tagged as of the call (group, phase and VU tags may change while the response is awaited).
    const base = vu.baseTags();
    const t0 = performance.now();
    const intendedAt = epochMsAt(t0) - vu.lagMs;
    let tHeaders = t0;
    const epoch = vu.epoch;
    vu.hold();
    run.requestsInFlight++;
    try {
      const type = run.discardResponseBodies ? 'none' : (params.responseType ?? 'text');
      const r = await exchange(vu.pool(parsed.origin), { method, path: parsed.path, headers, body, timeoutMs, bodyType: type, maxBodyBytes: HTTP_DEFAULTS.maxBodyBytes, sentAt: t0 }, res);
      tHeaders = r.headersAt;
      if (type !== 'none') res.body = r.body;
      if (r.headers['set-cookie'] !== undefined) res.cookies = jar.fromResponse(parsed.url, r.headers['set-cookie']);
    } catch (e) {
      if (vu.epoch !== epoch || run.stopping) {
        run.requestsAbandoned++;
        throw Object.assign(new Error('iteration interrupted'), { name: 'AbortError' });
      }
      const { code, message } = errorCode(e);
      res.status = 0;
      tHeaders = performance.now();
      res.error = message;
      res.error_code = code;
    } finally {
      run.requestsInFlight--;
      vu.release();
    }
    const tEnd = performance.now();
    res.timings.waiting = tHeaders - t0;
    res.timings.receiving = tEnd - tHeaders;
    res.timings.duration = tEnd - t0;

    // A redirect is followed only on the origin (scheme, host, port) it came from: a target must not
    // be able to send the load anywhere else. One that points elsewhere is answered as it is, failed.
    const maxRedirects = params.redirects ?? maxRedirectsDefault;
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

    // Digest auth (params.auth: 'digest'): k6 sends the request again, answering the challenge.
    if (res.status === 401 && params.auth === 'digest' && authorization === undefined && parsed.userinfo !== undefined) {
      const challenge = res.headers['Www-Authenticate'];
      if (challenge && /^digest /i.test(challenge)) {
        return send(method, url, body, params, hop, digestAuthorization(challenge, parsed.userinfo, method, parsed.path));
      }
    }
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
    if (p.auth !== undefined && p.auth !== null && p.auth !== 'basic' && p.auth !== 'digest') throw new UnsupportedFeatureError(`http params.auth "${String(p.auth)}"`);
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
    cookieJar: () => vuJar,
    CookieJar: K6CookieJar,
    url: unsupported('http.url`...`'),
    TLS_1_0: 'tls1.0',
    TLS_1_1: 'tls1.1',
    TLS_1_2: 'tls1.2',
    TLS_1_3: 'tls1.3',
    OCSP_STATUS_GOOD: 'good',
  };
  return http;
}

type RequestCookies = Record<string, Array<{ name: string; value: string; replace: boolean }>>;

/**
 * The Cookie header as k6 builds it: params.cookies first (`{name: value}` or `{name: {value,
 * replace}}`), then the jar's cookies for the URL, less those a params cookie replaces.
 */
function withCookies(headers: Record<string, string>, url: URL, jar: CookieJar, cookies: unknown): RequestCookies {
  const sent: RequestCookies = {};
  if (jar.size === 0 && (cookies === undefined || cookies === null)) return sent;
  const pairs: string[] = [];
  const replaced = new Set<string>();
  if (cookies && typeof cookies === 'object') {
    for (const [name, c] of Object.entries(cookies as Record<string, unknown>)) {
      if (c === null || c === undefined) continue;
      const value = typeof c === 'object' ? String((c as { value?: unknown }).value ?? '') : String(c);
      const replace = typeof c === 'object' && Boolean((c as { replace?: unknown }).replace);
      if (replace) replaced.add(name);
      pairs.push(`${name}=${value}`);
      (sent[name] ??= []).push({ name, value, replace });
    }
  }
  for (const c of jar.cookiesFor(url)) {
    if (replaced.has(c.name)) continue;
    pairs.push(`${c.name}=${c.value}`);
    (sent[c.name] ??= []).push({ name: c.name, value: c.value, replace: false });
  }
  if (pairs.length) headers.cookie = headers.cookie ? `${headers.cookie}; ${pairs.join('; ')}` : pairs.join('; ');
  return sent;
}
