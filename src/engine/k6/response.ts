/** k6's Response object (the parts scripts read), with header names canonicalised as k6 does. */
import { STATUS_CODES } from 'node:http';
import { responseHtml } from './html.ts';
import { jsonSelect } from './json-select.ts';

export interface Timings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

export interface RequestInfo {
  method: string;
  url: string;
  headers: Record<string, string[]>;
  body: string;
  cookies: Record<string, Array<{ name: string; value: string; replace: boolean }>>;
}

const canonicalNames = new Map<string, string>();
const canonical = (name: string): string => {
  let c = canonicalNames.get(name);
  if (c === undefined) {
    c = name.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());
    if (canonicalNames.size < 10_000) canonicalNames.set(name, c);
  }
  return c;
};

const statusTexts = new Map<number, string>();
const statusText = (code: number): string => {
  let t = statusTexts.get(code);
  if (t === undefined) {
    t = `${code} ${STATUS_CODES[code] ?? ''}`.trim();
    if (statusTexts.size < 1000) statusTexts.set(code, t);
  }
  return t;
};

const NO_COOKIES: Record<string, unknown> = Object.freeze({});

export class Response {
  status = 0;
  status_text = '';
  url: string;
  body: string | ArrayBuffer | null = null;
  headers: Record<string, string> = {};
  error = '';
  error_code = 0;
  // Constant for every response of this engine: getters, not per-response allocations.
  get proto(): string {
    return 'HTTP/1.1';
  }
  /** The response's Set-Cookie, by name (k6's response.cookies); most responses set none. */
  get cookies(): Record<string, unknown> {
    return this.setCookies ?? NO_COOKIES;
  }
  set cookies(v: Record<string, unknown>) {
    this.setCookies = v;
  }
  private setCookies: Record<string, unknown> | undefined;
  get remote_ip(): string {
    return '';
  }
  get remote_port(): number {
    return 0;
  }
  get tls_version(): string {
    return '';
  }
  get tls_cipher_suite(): string {
    return '';
  }
  get ocsp(): Record<string, unknown> {
    return {};
  }
  timings: Timings = { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };
  private readonly makeRequest: () => RequestInfo;
  private requestInfo: RequestInfo | undefined;

  /** The request is described lazily: most scripts never read it. */
  constructor(url: string, makeRequest: () => RequestInfo) {
    this.url = url;
    this.makeRequest = makeRequest;
  }

  get request(): RequestInfo {
    return (this.requestInfo ??= this.makeRequest());
  }

  /** Status line and headers, as they arrive. */
  setHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.status_text = statusText(statusCode);
    this.setHeaders(headers);
  }

  setHeaders(raw: Record<string, string | string[] | undefined>): void {
    for (const k in raw) {
      const v = raw[k];
      if (v !== undefined) this.headers[canonical(k)] = Array.isArray(v) ? v.join(', ') : v;
    }
  }

  json(selector?: string): unknown {
    return jsonSelect(this.body, selector);
  }

  html(selector?: string): unknown {
    return responseHtml(this.body, selector);
  }

  submitForm(): never {
    throw Object.assign(new Error('response.submitForm() is not implemented by the built-in engine'), { fatal: true });
  }

  clickLink(): never {
    throw Object.assign(new Error('response.clickLink() is not implemented by the built-in engine'), { fatal: true });
  }
}
