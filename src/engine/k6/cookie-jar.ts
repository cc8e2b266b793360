/**
 * k6's cookie jars: Go's net/http/cookiejar without a public-suffix list, as k6 makes them. Each VU
 * has one (responses' Set-Cookie land in it and matching cookies go out with later requests,
 * redirects included); scripts may make more with `new http.CookieJar()`. Cookies are per host (the
 * port is not part of the match), host-only unless a Domain attribute names a parent domain, and
 * path-matched as RFC 6265 says.
 */

export interface CookieAttributes {
  domain?: string;
  path?: string;
  /** RFC 1123 date. */
  expires?: string;
  max_age?: number;
  secure?: boolean;
  http_only?: boolean;
}

/** A Set-Cookie as k6's response.cookies shows it. */
export interface ResponseCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  http_only: boolean;
  secure: boolean;
  max_age: number;
  expires: number;
}

interface Entry {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  /** Epoch ms; Infinity for a session cookie. */
  expiresMs: number;
  created: number;
}

const isIp = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');

function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/';
  const i = pathname.lastIndexOf('/');
  return i === 0 ? '/' : pathname.slice(0, i);
}

function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

let created = 0;

export class CookieJar {
  get size(): number {
    return this.entries.size;
  }

  private readonly entries = new Map<string, Entry>();

  /** Stores a cookie as if `url` had set it; false when the URL may not set it (wrong domain). */
  setCookie(url: URL, name: string, value: string, attrs: CookieAttributes = {}): boolean {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const host = url.hostname.toLowerCase();
    let domain = host;
    let hostOnly = true;
    if (attrs.domain) {
      const d = attrs.domain.toLowerCase().replace(/^\./, '');
      if (d !== host) {
        if (isIp(host) || !host.endsWith(`.${d}`)) return false;
        domain = d;
        hostOnly = false;
      } else if (!isIp(host)) hostOnly = false;
    }
    const path = attrs.path && attrs.path.startsWith('/') ? attrs.path : defaultPath(url.pathname);
    const key = `${domain};${path};${name}`;
    let expiresMs = Infinity;
    if (attrs.max_age !== undefined && attrs.max_age !== 0) expiresMs = attrs.max_age < 0 ? -Infinity : Date.now() + attrs.max_age * 1000;
    else if (attrs.expires) {
      const t = Date.parse(attrs.expires);
      if (Number.isFinite(t)) expiresMs = t;
    }
    if (expiresMs <= Date.now()) {
      this.entries.delete(key);
      return true;
    }
    const old = this.entries.get(key);
    this.entries.set(key, { name, value, domain, hostOnly, path, secure: Boolean(attrs.secure), httpOnly: Boolean(attrs.http_only), expiresMs, created: old?.created ?? ++created });
    return true;
  }

  /** The cookies a request to `url` carries, longest path first, then oldest first. */
  cookiesFor(url: URL): Array<{ name: string; value: string }> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return [];
    const host = url.hostname.toLowerCase();
    const now = Date.now();
    const out: Entry[] = [];
    for (const [key, e] of this.entries) {
      if (e.expiresMs <= now) {
        this.entries.delete(key);
        continue;
      }
      const domainOk = e.hostOnly ? host === e.domain : host === e.domain || host.endsWith(`.${e.domain}`);
      if (!domainOk || !pathMatches(e.path, url.pathname || '/') || (e.secure && url.protocol !== 'https:')) continue;
      out.push(e);
    }
    out.sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    return out.map((e) => ({ name: e.name, value: e.value }));
  }

  /** Takes a response's Set-Cookie headers; returns them as k6's response.cookies shows them. */
  fromResponse(url: URL, setCookie: string | string[] | undefined): Record<string, ResponseCookie[]> {
    const out: Record<string, ResponseCookie[]> = {};
    for (const line of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const c = parseSetCookie(line);
      if (!c) continue;
      this.setCookie(url, c.name, c.value, c);
      (out[c.name] ??= []).push({
        name: c.name, value: c.value, domain: c.domain ?? '', path: c.path ?? '', http_only: Boolean(c.http_only),
        secure: Boolean(c.secure), max_age: c.max_age ?? 0, expires: c.expires ? Date.parse(c.expires) || 0 : 0,
      });
    }
    return out;
  }

  /** k6's jar.cookiesForURL(url): name → values. */
  cookiesForURL(url: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.cookiesFor(new URL(url))) (out[c.name] ??= []).push(c.value);
    return out;
  }

  /** k6's jar.clear(url): drops every cookie a request to `url` would carry. */
  clear(url: string): void {
    const u = new URL(url);
    for (const c of this.cookiesFor(u)) this.delete(url, c.name);
  }

  /** k6's jar.delete(url, name). */
  delete(url: string, name: string): void {
    const u = new URL(url);
    const host = u.hostname.toLowerCase();
    for (const [key, e] of this.entries) {
      const domainOk = e.hostOnly ? host === e.domain : host === e.domain || host.endsWith(`.${e.domain}`);
      if (e.name === name && domainOk && pathMatches(e.path, u.pathname || '/')) this.entries.delete(key);
    }
  }
}

type ParsedCookie = { name: string; value: string } & CookieAttributes;

function parseSetCookie(line: string): ParsedCookie | undefined {
  const [pair, ...attrs] = line.split(';');
  const eq = pair!.indexOf('=');
  if (eq <= 0) return undefined;
  const c: ParsedCookie = { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1') };
  for (const a of attrs) {
    const i = a.indexOf('=');
    const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? '' : a.slice(i + 1).trim();
    if (k === 'domain') c.domain = v;
    else if (k === 'path') c.path = v;
    else if (k === 'expires') c.expires = v;
    else if (k === 'max-age' && /^-?\d+$/.test(v)) c.max_age = Number(v) === 0 ? -1 : Number(v);
    else if (k === 'secure') c.secure = true;
    else if (k === 'httponly') c.http_only = true;
  }
  return c;
}

/** k6's CookieJar object as scripts use it (http.cookieJar(), new http.CookieJar()). */
export class K6CookieJar extends CookieJar {
  set(url: string, name: string, value: string, options?: CookieAttributes | null): boolean {
    const attrs: CookieAttributes = {};
    for (const [k, v] of Object.entries(options ?? {})) {
      const key = k.toLowerCase();
      if (key === 'domain' || key === 'path' || key === 'expires') attrs[key] = String(v);
      else if (key === 'max_age') attrs.max_age = Math.trunc(Number(v));
      else if (key === 'secure' || key === 'http_only') attrs[key] = Boolean(v);
    }
    if (attrs.expires && !Number.isFinite(Date.parse(attrs.expires))) throw new Error(`unable to parse "expires" date string "${attrs.expires}"`);
    this.setCookie(new URL(url), name, value, attrs);
    return true;
  }
}
