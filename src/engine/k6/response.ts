/** k6's Response object (the parts scripts read), with header names canonicalised as k6 does. */
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
  cookies: Record<string, unknown>;
}

const canonical = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());

export class Response {
  status = 0;
  status_text = '';
  proto = 'HTTP/1.1';
  url: string;
  body: string | ArrayBuffer | null = null;
  headers: Record<string, string> = {};
  cookies: Record<string, unknown> = {};
  error = '';
  error_code = 0;
  remote_ip = '';
  remote_port = 0;
  tls_version = '';
  tls_cipher_suite = '';
  ocsp = {};
  timings: Timings = { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0, duration: 0 };
  request: RequestInfo;

  constructor(url: string, request: RequestInfo) {
    this.url = url;
    this.request = request;
  }

  setHeaders(raw: Record<string, string | string[] | undefined>): void {
    for (const [k, v] of Object.entries(raw)) {
      if (v !== undefined) this.headers[canonical(k)] = Array.isArray(v) ? v.join(', ') : v;
    }
  }

  json(selector?: string): unknown {
    if (typeof this.body !== 'string') throw new Error('cannot parse the response body as JSON: the body is not text (responseType or discardResponseBodies)');
    const value: unknown = JSON.parse(this.body);
    if (selector === undefined) return value;
    if (/[#*?|@\\]/.test(selector)) {
      throw Object.assign(new Error(`response.json("${selector}"): GJSON selectors beyond dotted paths are not implemented by the built-in engine`), { fatal: true });
    }
    let cur: unknown = value;
    for (const part of selector.split('.')) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  }

  html(): never {
    throw Object.assign(new Error('response.html() is not implemented by the built-in engine'), { fatal: true });
  }

  submitForm(): never {
    throw Object.assign(new Error('response.submitForm() is not implemented by the built-in engine'), { fatal: true });
  }

  clickLink(): never {
    throw Object.assign(new Error('response.clickLink() is not implemented by the built-in engine'), { fatal: true });
  }
}
