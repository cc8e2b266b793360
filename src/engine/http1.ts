/**
 * A minimal HTTP/1.1 client over node:net for plain `http:` origins: one keep-alive socket per
 * request in flight, the request head (and a string body) written in one call, and a small
 * response parser (status line, headers, Content-Length, chunked, read-until-close). undici's
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

/** undici's default maxHeaderSize (Node's http.maxHeaderSize). */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size or trailer line longer than this is not HTTP. */
const MAX_LINE_BYTES = 8 * 1024;
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
  onHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void;
  /** `chunk` is the handler's to keep (a copy, not a view into the read buffer). */
  onData(chunk: Buffer): void;
  onComplete(): void;
  onError(err: Error): void;
}

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_PATH = /[^\u0021-\u00ff]/;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
/**
 * Every connection reads into this one buffer (net's `onread`): Node's default read path allocates
 * a fresh buffer per read and pushes it through a Readable, which cost the engine about a tenth of
 * its CPU per request. Safe because reads are handled one at a time, synchronously, on this thread;
 * the parser therefore copies whatever it keeps past the read (a partial head, body chunks).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const enum State {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

class H1Connection {
  readonly socket: net.Socket;
  private handler: H1Handler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private state = State.Head;
  private remaining = 0;
  private pending: Buffer | undefined;
  private headSeen = false;
  private isHead = false;
  private reusable = true;
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
    this.state = State.Head;
    this.headSeen = false;
    this.isHead = req.method === 'HEAD';
    this.timer = setTimeout(() => this.fail(coded('request timeout', this.headSeen ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT')), req.timeoutMs);
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

  private onRead(n: number, shared: Buffer): boolean {
    this.onData(shared.subarray(0, n));
    return true; // keep reading: a response is never held back
  }

  /** `buf` is a view into READ_BUFFER, valid only until this returns. */
  private onData(buf: Buffer): void {
    if (this.handler === undefined) {
      // Bytes with no request outstanding: the connection is out of step; never reuse it.
      this.fail(coded('unexpected data from the server', 'UND_ERR_SOCKET'));
      return;
    }
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    try {
      this.parse(buf);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private parse(buf: Buffer): void {
    let i = 0;
    const len = buf.length;
    while (i < len) {
      const h = this.handler;
      if (h === undefined) {
        this.fail(coded('unexpected data from the server', 'UND_ERR_SOCKET'));
        return;
      }
      switch (this.state) {
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, i);
          if (end === -1 || end - i > MAX_HEAD_BYTES) {
            if (len - i > MAX_HEAD_BYTES) throw coded('Headers Overflow Error', 'UND_ERR_HEADERS_OVERFLOW');
            this.pending = Buffer.from(buf.subarray(i));
            return;
          }
          const text = buf.toString('latin1', i, end);
          i = end + 4;
          this.onHead(text, h);
          break;
        }
        case State.Fixed:
        case State.ChunkData: {
          const n = Math.min(this.remaining, len - i);
          h.onData(Buffer.from(buf.subarray(i, i + n)));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.state === State.Fixed) this.complete();
            else this.state = State.ChunkEnd;
          }
          break;
        }
        case State.ChunkSize:
        case State.Trailers: {
          const end = buf.indexOf(CRLF, i);
          if (end === -1) {
            if (len - i > MAX_LINE_BYTES) throw coded('invalid chunked body', 'HPE_INVALID_CHUNK_SIZE');
            this.pending = Buffer.from(buf.subarray(i));
            return;
          }
          if (this.state === State.Trailers) {
            if (end === i) this.complete();
          } else {
            const line = buf.toString('latin1', i, end);
            const semi = line.indexOf(';');
            const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
            if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw coded('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
            const size = parseInt(hex, 16);
            if (size === 0) this.state = State.Trailers;
            else {
              this.remaining = size;
              this.state = State.ChunkData;
            }
          }
          i = end + 2;
          break;
        }
        case State.ChunkEnd: {
          if (len - i < 2) {
            this.pending = Buffer.from(buf.subarray(i));
            return;
          }
          if (buf[i] !== 13 || buf[i + 1] !== 10) throw coded('invalid chunked body', 'HPE_STRICT');
          i += 2;
          this.state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
          h.onData(Buffer.from(buf.subarray(i)));
          return;
      }
    }
  }

  private onHead(text: string, h: H1Handler): void {
    const lines = text.split('\r\n');
    const status = lines[0]!;
    const code = Number(status.slice(9, 12));
    if (!status.startsWith('HTTP/1.') || status.charCodeAt(8) !== 32 || !Number.isInteger(code) || code < 100 || code > 999 || (status.length > 12 && status.charCodeAt(12) !== 32)) {
      throw coded('invalid status line', 'HPE_INVALID_STATUS');
    }
    // 1xx answers are skipped; the exchange's one deadline bounds a stream of them.
    if (code < 200) {
      if (code === 101) throw coded('unexpected protocol upgrade', 'UND_ERR_SOCKET');
      return;
    }
    const headers: Record<string, string | string[] | undefined> = {};
    for (let l = 1; l < lines.length; l++) {
      const line = lines[l]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw coded('invalid header line', 'HPE_INVALID_HEADER_TOKEN');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = headers[name];
      if (prev === undefined) {
        if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, configurable: true, writable: true });
        else headers[name] = value;
      } else if (typeof prev === 'string') headers[name] = [prev, value];
      else prev.push(value);
    }
    this.headSeen = true;
    const connection = headers.connection;
    if (typeof connection === 'string' && connection.toLowerCase() === 'close') this.reusable = false;
    else if (status.startsWith('HTTP/1.0') && !(typeof connection === 'string' && connection.toLowerCase() === 'keep-alive')) this.reusable = false;
    const ka = headers['keep-alive'];
    if (typeof ka === 'string') {
      const timeoutMs = keepAliveTimeoutMs(ka);
      // Counted from when the request was sent: a little before the server's idle clock starts, so on the safe side.
      if (timeoutMs !== undefined) this.idleUntil = this.sentAt + Math.max(0, timeoutMs - KEEP_ALIVE_MARGIN_MS);
    }
    h.onHead(code, headers);
    if (this.handler !== h) return; // failed by the handler's bounds
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (this.isHead || code === 204 || code === 304) this.complete();
    else if (te !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(String(te))) {
        this.state = State.UntilClose;
        this.reusable = false;
      } else {
        if (cl !== undefined) this.reusable = false;
        this.state = State.ChunkSize;
      }
    } else if (cl !== undefined) {
      if (typeof cl !== 'string' || !/^\d{1,15}$/.test(cl)) throw coded('invalid content-length', 'HPE_UNEXPECTED_CONTENT_LENGTH');
      this.remaining = Number(cl);
      if (this.remaining === 0) this.complete();
      else this.state = State.Fixed;
    } else {
      this.state = State.UntilClose;
      this.reusable = false;
    }
  }

  private onEnd(): void {
    const h = this.handler;
    if (h !== undefined && this.state === State.UntilClose) {
      this.reusable = false;
      this.complete();
      return;
    }
    this.fail(coded('other side closed', 'UND_ERR_SOCKET'));
  }

  private complete(): void {
    const h = this.handler!;
    this.handler = undefined;
    clearTimeout(this.timer);
    this.state = State.Head;
    if (this.reusable) this.pool.release(this);
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
    this.pending = undefined;
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
