/**
 * The HTTP/1.1 response parser of the engine's own client (./http1.ts), as a byte state machine
 * with no socket in it: the connection hands it each read as `feed(buf, offset, end)` and acts on
 * what it returns, one event at a time, until it returns NEED_MORE.
 *
 *   start(isHead) ──► Head ──(1xx: skipped, 101: refused)──► Head
 *                      │ HEAD event (statusCode, headers)
 *                      ▼
 *                    Framing ──(HEAD request, 204, 304, Content-Length: 0)──► COMPLETE
 *                      ├─ Content-Length ──► Fixed ──BODY…──────────────────► COMPLETE
 *                      ├─ chunked ──► ChunkSize ─► ChunkData ─BODY…─► ChunkCr ─► ChunkLf ─► ChunkSize
 *                      │                 └─ size 0 ─► Trailers (skipped) ─ empty line ─► COMPLETE
 *                      └─ neither (or another coding) ──► UntilClose ─BODY…─ end() ─► complete
 *
 * BODY events are views into the buffer fed (`bodyStart`..`bodyEnd`), valid until the caller
 * reuses that buffer: copying them is the caller's choice. The only bytes the parser keeps past a
 * feed are a head or a chunk-size/trailer line cut by the end of a read, as a copy, bounded by the
 * limits below. Malformed input throws an Error with a `code` (llhttp's and undici's names, which
 * the k6 layer maps to k6's error codes); the parser is then unusable, as the connection is.
 *
 * The caller's body cap is not here: both transports apply it in one place (k6/transport.ts) from
 * the declared Content-Length in the head and the BODY bytes as they come.
 */

export type H1Headers = Record<string, string | string[] | undefined>;

/** feed() consumed everything it was given and needs the next read. */
export const NEED_MORE = 0;
/** The final (non-1xx) status line and headers are in: `statusCode`, `headers`. */
export const HEAD = 1;
/** Body bytes at `bodyStart`..`bodyEnd` of the buffer fed. */
export const BODY = 2;
/** The response is complete; `keepAlive` says whether the connection may carry another. */
export const COMPLETE = 3;
export type H1Event = typeof NEED_MORE | typeof HEAD | typeof BODY | typeof COMPLETE;

export interface H1ParserLimits {
  /** Longest status line plus headers, in bytes, without the closing blank line; default 16 KiB (undici's maxHeaderSize). */
  maxHeadBytes?: number;
  /** Longest chunk-size or trailer line, in bytes, without its CRLF; default 8 KiB. */
  maxLineBytes?: number;
}

const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
const DEFAULT_MAX_LINE_BYTES = 8 * 1024;

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** take() found no terminator within the limit. */
const TOO_LONG = -2;
/** take() kept the partial piece and needs more bytes. */
const PARTIAL = -1;

const enum State {
  /** No response expected: bytes now are out of step. */
  Idle,
  Head,
  /** The head was reported; the body's framing is decided on the next feed. */
  Framing,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkCr,
  ChunkLf,
  Trailers,
  UntilClose,
  /** The body is all in; COMPLETE is reported on the next feed. */
  Done,
}

export class H1ResponseParser {
  statusCode = 0;
  headers: H1Headers = {};
  /** False once the response says the connection ends with it (Connection: close, HTTP/1.0, a body read to close). */
  keepAlive = true;
  bodyStart = 0;
  bodyEnd = 0;
  /** Where the next feed() of the same buffer starts. */
  offset = 0;

  private state = State.Idle;
  private isHead = false;
  private http10 = false;
  private remaining = 0;
  /** A head or line cut by the end of a read (a copy). */
  private pending: Buffer | undefined;
  /** Where take() found its piece: a range of the buffer fed, or of a joined copy. */
  private piece: Buffer = CRLF;
  private pieceStart = 0;
  private pieceEnd = 0;
  private readonly maxHeadBytes: number;
  private readonly maxLineBytes: number;

  constructor(limits: H1ParserLimits = {}) {
    this.maxHeadBytes = limits.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Expects the response to one request (`isHead`: a HEAD request, whose response has no body). */
  start(isHead: boolean): void {
    this.state = State.Head;
    this.isHead = isHead;
    this.keepAlive = true;
    this.statusCode = 0;
    this.pending = undefined;
  }

  /** True once the final head is in (a timeout after it is a body timeout). */
  get headSeen(): boolean {
    return this.state !== State.Head && this.state !== State.Idle;
  }

  /**
   * Parses `buf[offset, end)` up to its next event. After any event but NEED_MORE, call again from
   * `this.offset`. COMPLETE may leave bytes unread (`offset < end`): they answer no request, and
   * feeding them throws. Throws on malformed input.
   */
  feed(buf: Buffer, offset: number, end: number): H1Event {
    let i = offset;
    for (;;) {
      switch (this.state) {
        case State.Idle:
          if (i < end) throw coded('unexpected data from the server', 'UND_ERR_SOCKET');
          this.offset = i;
          return NEED_MORE;
        case State.Head: {
          if (i === end) break;
          const next = this.take(buf, i, end, CRLFCRLF, this.maxHeadBytes);
          if (next === TOO_LONG) throw coded('Headers Overflow Error', 'UND_ERR_HEADERS_OVERFLOW');
          if (next === PARTIAL) {
            i = end;
            break;
          }
          i = next;
          if (this.parseHead(this.piece.toString('latin1', this.pieceStart, this.pieceEnd))) {
            this.state = State.Framing;
            this.offset = i;
            return HEAD;
          }
          continue; // a 1xx answer: the final one follows
        }
        case State.Framing:
          this.frame();
          continue;
        case State.Fixed:
        case State.ChunkData:
        case State.UntilClose: {
          if (i === end) break;
          let n = end - i;
          if (this.state !== State.UntilClose) {
            if (n > this.remaining) n = this.remaining;
            this.remaining -= n;
            if (this.remaining === 0) this.state = this.state === State.Fixed ? State.Done : State.ChunkCr;
          }
          this.bodyStart = i;
          this.bodyEnd = i + n;
          this.offset = i + n;
          return BODY;
        }
        case State.ChunkSize:
        case State.Trailers: {
          if (i === end) break;
          const next = this.take(buf, i, end, CRLF, this.maxLineBytes);
          if (next === TOO_LONG) throw coded('invalid chunked body', 'HPE_INVALID_CHUNK_SIZE');
          if (next === PARTIAL) {
            i = end;
            break;
          }
          i = next;
          if (this.state === State.Trailers) {
            if (this.pieceStart === this.pieceEnd) this.state = State.Done;
          } else {
            const size = chunkSize(this.piece, this.pieceStart, this.pieceEnd);
            if (size === 0) this.state = State.Trailers;
            else {
              this.remaining = size;
              this.state = State.ChunkData;
            }
          }
          continue;
        }
        case State.ChunkCr:
        case State.ChunkLf: {
          if (i === end) break;
          const cr = this.state === State.ChunkCr;
          if (buf[i] !== (cr ? 13 : 10)) throw coded('invalid chunked body', 'HPE_STRICT');
          i++;
          this.state = cr ? State.ChunkLf : State.ChunkSize;
          continue;
        }
        case State.Done:
          this.state = State.Idle;
          this.offset = i;
          return COMPLETE;
      }
      this.offset = end;
      return NEED_MORE;
    }
  }

  /** The server ended the stream: true if that completes the response (a body delimited by close). */
  end(): boolean {
    if (this.state !== State.UntilClose) return false;
    this.state = State.Idle;
    return true;
  }

  /**
   * Finds the next `term`-ended piece (a head, a line) from `i`, joined to a partial one kept from
   * an earlier read: sets piece/pieceStart/pieceEnd and returns the offset past `term` in `buf`.
   * `buf` may run past `end` (a shared read buffer), so a match is only taken before `end`.
   */
  private take(buf: Buffer, i: number, end: number, term: Buffer, max: number): number {
    const t = term.length;
    const pending = this.pending;
    if (pending === undefined) {
      const at = buf.indexOf(term, i);
      if (at !== -1 && at + t <= end && at - i <= max) {
        this.piece = buf;
        this.pieceStart = i;
        this.pieceEnd = at;
        return at + t;
      }
      // Not there yet: a piece within the limit may still end in the next read (its `term` at most
      // max bytes from here); one that cannot is refused now, however the bytes were split.
      if (end - i >= max + t) return TOO_LONG;
      this.pending = Buffer.from(buf.subarray(i, end));
      return PARTIAL;
    }
    const p = pending.length;
    const n = Math.min(end - i, max + t - p);
    const joined = Buffer.concat([pending, buf.subarray(i, i + n)], p + n);
    this.pending = undefined;
    // The kept part holds no `term`; one may straddle the join.
    const at = joined.indexOf(term, Math.max(0, p - t + 1));
    if (at !== -1) {
      this.piece = joined;
      this.pieceStart = 0;
      this.pieceEnd = at;
      return i + at + t - p;
    }
    if (joined.length >= max + t) return TOO_LONG;
    this.pending = joined;
    return PARTIAL;
  }

  /** Reads a head (status line and headers, latin1); false for a 1xx answer, which is skipped. */
  private parseHead(text: string): boolean {
    let eol = text.indexOf('\r\n');
    if (eol === -1) eol = text.length;
    const code = statusCode(text, eol);
    // 1xx answers are skipped; the exchange's one deadline bounds a stream of them.
    if (code < 200) {
      if (code === 101) throw coded('unexpected protocol upgrade', 'UND_ERR_SOCKET');
      return false;
    }
    const headers: H1Headers = {};
    for (let at = eol + 2; at < text.length; ) {
      let next = text.indexOf('\r\n', at);
      if (next === -1) next = text.length;
      const colon = text.indexOf(':', at);
      if (colon <= at || colon >= next) throw coded('invalid header line', 'HPE_INVALID_HEADER_TOKEN');
      const name = text.slice(at, colon).toLowerCase();
      const value = text.slice(colon + 1, next).trim();
      // `__proto__` read or assigned would reach the prototype: it is kept as an own property.
      const proto = name === '__proto__';
      const prev = proto ? (Object.getOwnPropertyDescriptor(headers, name)?.value as string | string[] | undefined) : headers[name];
      if (prev === undefined || typeof prev === 'string') {
        const v = prev === undefined ? value : [prev, value];
        if (proto) Object.defineProperty(headers, name, { value: v, enumerable: true, configurable: true, writable: true });
        else headers[name] = v;
      } else prev.push(value);
      at = next + 2;
    }
    this.statusCode = code;
    this.headers = headers;
    this.http10 = text.charCodeAt(7) === 48; // "HTTP/1.0"
    const connection = headers.connection;
    if (typeof connection === 'string' && connection.toLowerCase() === 'close') this.keepAlive = false;
    else if (this.http10 && !(typeof connection === 'string' && connection.toLowerCase() === 'keep-alive')) this.keepAlive = false;
    return true;
  }

  /** Decides how the body is delimited, from the request method, the status and the headers. */
  private frame(): void {
    const code = this.statusCode;
    const te = this.headers['transfer-encoding'];
    const cl = this.headers['content-length'];
    if (this.isHead || code === 204 || code === 304) this.state = State.Done;
    else if (te !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(String(te))) {
        this.state = State.UntilClose;
        this.keepAlive = false;
      } else {
        // Both framings at once is a smuggling shape: read it as chunked, never reuse the connection.
        if (cl !== undefined) this.keepAlive = false;
        this.state = State.ChunkSize;
      }
    } else if (cl !== undefined) {
      const length = typeof cl === 'string' ? decimal(cl) : -1;
      if (length < 0) throw coded('invalid content-length', 'HPE_UNEXPECTED_CONTENT_LENGTH');
      this.remaining = length;
      this.state = length === 0 ? State.Done : State.Fixed;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
  }
}

/** `HTTP/1.x NNN[ reason]` up to `eol`: the status code, or a throw. */
function statusCode(text: string, eol: number): number {
  const d1 = text.charCodeAt(9) - 48;
  const d2 = text.charCodeAt(10) - 48;
  const d3 = text.charCodeAt(11) - 48;
  if (
    !text.startsWith('HTTP/1.') ||
    !isDigit(text.charCodeAt(7) - 48) ||
    text.charCodeAt(8) !== 32 ||
    eol < 12 ||
    !isDigit(d1) ||
    !isDigit(d2) ||
    !isDigit(d3) ||
    d1 === 0 ||
    (eol > 12 && text.charCodeAt(12) !== 32)
  ) {
    throw coded('invalid status line', 'HPE_INVALID_STATUS');
  }
  return d1 * 100 + d2 * 10 + d3;
}

const isDigit = (d: number) => d >= 0 && d <= 9;

/** 1 to 15 decimal digits as a number; -1 for anything else. */
function decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(k) - 48;
    if (!isDigit(d)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** What String.prototype.trim() drops, within latin1: tab, LF, VT, FF, CR, space, no-break space. */
const isTrimmed = (b: number) => (b >= 9 && b <= 13) || b === 32 || b === 160;

/** A chunk-size line `[ws]HEX[ws][;extensions]` at buf[start, end): 1 to 12 hex digits, or a throw. */
function chunkSize(buf: Buffer, start: number, end: number): number {
  let k = start;
  while (k < end && isTrimmed(buf[k]!)) k++;
  const digitsAt = k;
  let size = 0;
  for (; k < end; k++) {
    const b = buf[k]!;
    const d = b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : b >= 65 && b <= 70 ? b - 55 : -1;
    if (d === -1) break;
    size = size * 16 + d;
  }
  const digits = k - digitsAt;
  while (k < end && isTrimmed(buf[k]!)) k++;
  if (digits === 0 || digits > 12 || (k < end && buf[k] !== 59 /* ; */)) throw coded('invalid chunk size', 'HPE_INVALID_CHUNK_SIZE');
  return size;
}
