/**
 * A minimal HTTP/1.1 client over node:net for plain `http:` origins: one keep-alive socket per
 * request in flight, the request head (and a string body) written in one call, and the response
 * parsed by the byte state machine in ./http1-parser.ts, which holds no socket. undici's
 * general machinery (llhttp in WASM, dispatch layers, per-request checks) cost the engine a large
 * share of its throughput; `https:` origins still go through undici (src/engine/connections.ts).
 *
 * Behaviour kept from the undici path: the same header object (names lower-cased, values latin1,
 * repeats as arrays), the same error codes (UND_ERR_HEADERS_TIMEOUT / UND_ERR_BODY_TIMEOUT,
 * UND_ERR_SOCKET, UND_ERR_HEADERS_OVERFLOW, the socket's own ECONNREFUSED/ECONNRESET), one deadline
 * for the whole exchange from send (connect, 1xx answers and trickling bodies included), and the
 * caller's body cap (a declared Content-Length beyond it fails at once, otherwise bytes are counted).
 */
import net from 'node:net';
import { BODY, H1ResponseParser, HEAD, NEED_MORE, type H1Headers } from './http1-parser.ts';

/** Idle sockets are dropped this long before the server's Keep-Alive timeout hint (undici's threshold). */
const KEEP_ALIVE_MARGIN_MS = 2_000;

export interface H1Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  timeoutMs: number;
  maxBodyBytes: number;
  /** performance.now() as the caller sends (it has read the clock already); read here when absent. */
  sentAt?: number;
}

/** Receives one exchange's events; a throw from onHead or onData fails the exchange with it. */
export interface H1Handler {
  onHead(statusCode: number, headers: H1Headers): void;
  /** `chunk` is the handler's to keep (a copy, not a view into the read buffer). */
  onData(chunk: Buffer): void;
  onComplete(): void;
  onError(err: Error): void;
}

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_PATH = /[^\u0021-\u00ff]/;
/**
 * Every connection reads into this one buffer (net's `onread`): Node's default read path allocates
 * a fresh buffer per read and pushes it through a Readable, which cost the engine about a tenth of
 * its CPU per request. Safe because reads are handled one at a time, synchronously, on this thread;
 * body chunks are therefore copied for the handler, and the parser copies whatever it keeps past
 * the read (a head or a chunk-size line cut by the read's end).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

class H1Connection {
  readonly socket: net.Socket;
  private handler: H1Handler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly parser = new H1ResponseParser();
  /** performance.now() after which an idle socket is not reused (the server's Keep-Alive hint). */
  idleUntil = Infinity;
  /** performance.now() when the exchange in flight was sent. */
  sentAt = 0;
  dead = false;

  constructor(private readonly pool: H1Pool) {
    const s = net.connect({ host: pool.host, port: pool.port, onread: { buffer: READ_BUFFER, callback: (n, b) => this.onRead(n, b as Buffer) } });
    s.setNoDelay(true);
    s.on('error', (e) => this.fail(e));
    s.on('end', () => this.onEnd());
    s.on('close', () => this.fail(coded('other side closed', 'UND_ERR_SOCKET')));
    this.socket = s;
  }

  send(req: H1Request, handler: H1Handler, sentAt: number): void {
    this.handler = handler;
    this.sentAt = sentAt;
    this.parser.start(req.method === 'HEAD');
    this.timer = setTimeout(() => this.fail(coded('request timeout', this.parser.headSeen ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT')), req.timeoutMs);
    let head: string;
    try {
      head = requestHead(req, this.pool.hostHeader);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    const body = req.body;
    if (body === undefined) this.socket.write(head, 'latin1');
    else if (typeof body === 'string') this.socket.write(head + body);
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
  }

  /** `buf` is READ_BUFFER, its first `n` bytes just read: valid only until this returns. */
  private onRead(n: number, buf: Buffer): boolean {
    const p = this.parser;
    let at = 0;
    try {
      for (;;) {
        const event = p.feed(buf, at, n);
        at = p.offset;
        if (event === NEED_MORE) break;
        const h = this.handler;
        if (h === undefined) throw coded('unexpected data from the server', 'UND_ERR_SOCKET');
        if (event === BODY) h.onData(Buffer.from(buf.subarray(p.bodyStart, p.bodyEnd)));
        else if (event === HEAD) this.onHead(h);
        else {
          // Bytes past the response: the connection is out of step; never reuse it.
          this.complete(at === n);
          break;
        }
        if (this.handler !== h) break; // failed by the handler's bounds
      }
    } catch (e) {
      this.fail(e as Error);
    }
    return true; // keep reading: a response is never held back
  }

  private onHead(h: H1Handler): void {
    const p = this.parser;
    const ka = p.headers['keep-alive'];
    if (typeof ka === 'string') {
      const timeoutMs = keepAliveTimeoutMs(ka);
      // Counted from when the request was sent: a little before the server's idle clock starts, so on the safe side.
      if (timeoutMs !== undefined) this.idleUntil = this.sentAt + Math.max(0, timeoutMs - KEEP_ALIVE_MARGIN_MS);
    }
    h.onHead(p.statusCode, p.headers);
  }

  private onEnd(): void {
    if (this.handler !== undefined && this.parser.end()) {
      this.complete(false);
      return;
    }
    this.fail(coded('other side closed', 'UND_ERR_SOCKET'));
  }

  private complete(inStep: boolean): void {
    const h = this.handler!;
    this.handler = undefined;
    clearTimeout(this.timer);
    if (inStep && this.parser.keepAlive) this.pool.release(this);
    else this.destroy();
    h.onComplete();
  }

  /** Ends the connection; an exchange in flight fails with `err`. */
  fail(err: Error): void {
    const h = this.handler;
    this.handler = undefined;
    if (h !== undefined) clearTimeout(this.timer);
    this.destroy();
    h?.onError(err);
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.pool.forget(this);
    this.socket.destroy();
  }
}

/** A server repeats the same Keep-Alive value on every response: parsed once. */
let lastKeepAlive = '';
let lastKeepAliveMs: number | undefined;
function keepAliveTimeoutMs(value: string): number | undefined {
  if (value !== lastKeepAlive) {
    const m = /timeout=(\d+)/i.exec(value);
    lastKeepAlive = value;
    lastKeepAliveMs = m ? Number(m[1]) * 1000 : undefined;
  }
  return lastKeepAliveMs;
}

function requestHead(req: H1Request, hostHeader: string): string {
  const method = req.method;
  if (!TOKEN.test(method)) throw coded(`invalid request method "${method}"`, 'UND_ERR_INVALID_ARG');
  if (BAD_PATH.test(req.path)) throw coded('invalid request path', 'UND_ERR_INVALID_ARG');
  let head = `${method} ${req.path} HTTP/1.1\r\n`;
  let host = true;
  let length = true;
  const headers = req.headers;
  for (const name in headers) {
    const value = headers[name]!;
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) throw coded(`invalid header "${name}"`, 'UND_ERR_INVALID_ARG');
    if (name === 'host') host = false;
    else if (name === 'content-length') length = false;
    else if (name === 'transfer-encoding' || name === 'upgrade' || name === 'expect') throw coded(`header "${name}" is not supported`, 'UND_ERR_INVALID_ARG');
    head += `${name}: ${value}\r\n`;
  }
  if (host) head += `host: ${hostHeader}\r\n`;
  const body = req.body;
  if (length) {
    if (body !== undefined) head += `content-length: ${typeof body === 'string' ? Buffer.byteLength(body) : body.length}\r\n`;
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') head += 'content-length: 0\r\n';
  }
  return head + '\r\n';
}

/** One VU's keep-alive sockets to one plain-HTTP origin. */
export class H1Pool {
  readonly host: string;
  readonly port: number;
  readonly hostHeader: string;
  private readonly idle: H1Connection[] = [];
  private readonly all = new Set<H1Connection>();
  private destroyed = false;

  constructor(origin: string) {
    const u = new URL(origin);
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port === '' ? 80 : Number(u.port);
    this.hostHeader = u.host;
  }

  send(req: H1Request, handler: H1Handler): void {
    if (this.destroyed) {
      handler.onError(coded('the VU closed its connections', 'UND_ERR_DESTROYED'));
      return;
    }
    const sentAt = req.sentAt ?? performance.now();
    let c = this.idle.pop();
    while (c !== undefined && c.idleUntil !== Infinity && sentAt > c.idleUntil) {
      c.destroy();
      c = this.idle.pop();
    }
    if (c === undefined) {
      c = new H1Connection(this);
      this.all.add(c);
    }
    c.send(req, handler, sentAt);
  }

  release(c: H1Connection): void {
    if (!this.destroyed && !c.dead) this.idle.push(c);
  }

  forget(c: H1Connection): void {
    this.all.delete(c);
    const at = this.idle.indexOf(c);
    if (at !== -1) this.idle.splice(at, 1);
  }

  /** Fails every exchange in flight and closes every socket. */
  destroy(): void {
    this.destroyed = true;
    this.idle.length = 0;
    for (const c of [...this.all]) c.fail(coded('the VU closed its connections', 'UND_ERR_DESTROYED'));
  }
}
