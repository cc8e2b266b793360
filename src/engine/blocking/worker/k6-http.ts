/**
 * `k6/http` inside a blocking VU's worker: every request is sent by the host with the VU's own
 * k6/http (src/engine/k6/http.ts), so metrics, tags, redirects, cookies and errors are the
 * in-process engine's. http.get() and friends block this VU until the response is in;
 * http.asyncRequest() does not.
 */
import { responseHtml } from '../../k6/html.ts';
import { jsonSelect } from '../../k6/json-select.ts';
import { UnsupportedFeatureError, unsupported } from '../../k6/unsupported.ts';
import type { WireExpected, WireJar, WireResponse } from '../wire.ts';
import type { Channel } from './channel.ts';

class ExpectedStatuses {
  constructor(readonly ranges: Array<[number, number]>) {}
  has(status: number): boolean {
    return this.ranges.some(([a, b]) => status >= a && status <= b);
  }
}

/** A cookie jar kept by the host (the VU's own is id 0); its methods ask the host. */
class CookieJar {
  readonly __jar: number;
  constructor(
    private readonly ch: Channel,
    id: number,
  ) {
    this.__jar = id;
  }
  set(url: string, name: string, value: string, options?: Record<string, unknown>): void {
    this.ch.call('jar', this.__jar, 'set', url, name, value, options ?? {});
  }
  cookiesForURL(url: string): Record<string, string[]> {
    return this.ch.call('jar', this.__jar, 'cookiesForURL', url) as Record<string, string[]>;
  }
  clear(url: string): void {
    this.ch.call('jar', this.__jar, 'clear', url);
  }
  delete(url: string, name: string): void {
    this.ch.call('jar', this.__jar, 'delete', url, name);
  }
}

class Response implements Omit<WireResponse, 'body'> {
  status = 0;
  status_text = '';
  url = '';
  body: string | ArrayBuffer | null = null;
  headers: Record<string, string> = {};
  error = '';
  error_code = 0;
  timings = { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };
  proto = '';
  request = { method: '', url: '', headers: {}, body: '', cookies: {} };
  cookies: Record<string, unknown> = {};
  remote_ip = '';
  remote_port = 0;
  tls_version = '';
  tls_cipher_suite = '';
  ocsp: Record<string, unknown> = {};

  constructor(w: WireResponse) {
    Object.assign(this, w);
  }

  json(selector?: string): unknown {
    return jsonSelect(this.body, selector);
  }
  html(selector?: string): unknown {
    return responseHtml(this.body, selector);
  }
  submitForm(): never {
    throw new UnsupportedFeatureError('response.submitForm()');
  }
  clickLink(): never {
    throw new UnsupportedFeatureError('response.clickLink()');
  }
}

type BatchItem = string | unknown[] | { method?: string; url: string; body?: unknown; params?: Record<string, unknown> };

export function createHttp(ch: Channel) {
  let nextJar = 1;
  const vuJar = new CookieJar(ch, 0);

  /** Params with their class instances made plain for the host. */
  const wireParams = (p: unknown): unknown => {
    if (p === null || typeof p !== 'object') return p;
    const out: Record<string, unknown> = { ...(p as Record<string, unknown>) };
    const cb = out.responseCallback;
    if (cb !== undefined) out.responseCallback = { __expected: cb instanceof ExpectedStatuses ? cb.ranges : null } satisfies WireExpected;
    if (out.jar instanceof CookieJar) out.jar = { __jar: out.jar.__jar } satisfies WireJar;
    return out;
  };
  const wireBody = (b: unknown): unknown => (b instanceof ArrayBuffer || ArrayBuffer.isView(b) || typeof b !== 'object' || b === null ? b : { ...b });
  const respond = (w: unknown) => new Response(w as WireResponse);

  const request = (method: string, url: unknown, body?: unknown, params?: unknown) =>
    respond(ch.call('http', String(method).toUpperCase(), url, wireBody(body), wireParams(params)));
  const noBody = (method: string) => (url: unknown, params?: unknown) => request(method, url, null, params);
  const withBody = (method: string) => (url: unknown, body?: unknown, params?: unknown) => request(method, url, body, params);

  function batch(requests: BatchItem[] | Record<string, BatchItem>): unknown {
    const wire = (r: BatchItem): unknown => {
      if (typeof r === 'string') return ['GET', r, null, null];
      if (Array.isArray(r)) return [String(r[0]).toUpperCase(), r[1], wireBody(r[2]), wireParams(r[3])];
      return [String(r.method ?? 'GET').toUpperCase(), r.url, wireBody(r.body), wireParams(r.params)];
    };
    if (Array.isArray(requests)) return (ch.call('batch', requests.map(wire)) as unknown[]).map(respond);
    const keys = Object.keys(requests);
    const out = ch.call('batch', keys.map((k) => wire(requests[k]!))) as unknown[];
    return Object.fromEntries(keys.map((k, i) => [k, respond(out[i])]));
  }

  return {
    request,
    get: noBody('GET'),
    head: noBody('HEAD'),
    del: withBody('DELETE'),
    options: withBody('OPTIONS'),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
    batch,
    async asyncRequest(method: string, url: unknown, body?: unknown, params?: unknown) {
      return respond(await ch.callAsync('http', String(method).toUpperCase(), url, wireBody(body), wireParams(params)));
    },
    expectedStatuses(...args: Array<number | { min: number; max: number }>) {
      return new ExpectedStatuses(args.map((a): [number, number] => (typeof a === 'number' ? [a, a] : [a.min, a.max])));
    },
    setResponseCallback(cb: unknown) {
      ch.post({ t: 'post', op: 'responseCallback', args: [cb instanceof ExpectedStatuses ? cb.ranges : null] });
    },
    cookieJar: () => vuJar,
    CookieJar: class extends CookieJar {
      constructor() {
        super(ch, nextJar++);
      }
    },
    file: unsupported('http.file()'),
    url: unsupported('http.url`...`'),
    TLS_1_0: 'tls1.0',
    TLS_1_1: 'tls1.1',
    TLS_1_2: 'tls1.2',
    TLS_1_3: 'tls1.3',
    OCSP_STATUS_GOOD: 'good',
    OCSP_STATUS_REVOKED: 'revoked',
    OCSP_STATUS_UNKNOWN: 'unknown',
  };
}
