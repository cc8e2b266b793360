/**
 * One HTTP exchange on a VU's keep-alive connections, straight on undici's dispatch API: the
 * response is taken in as it is parsed, with no Readable stream, async resource or extra promise
 * per body (undici's request() + body.text() cost the engine a large share of its throughput).
 *
 * Bounds kept per exchange: headersTimeout/bodyTimeout (undici's, restarted per chunk and per 1xx),
 * a deadline for the whole response (a body trickling in, or a flood of 1xx, must still end on
 * time), and `maxBodyBytes` (a declared Content-Length beyond it fails at once; otherwise the bytes
 * are counted as they come).
 *
 * Plain `http:` origins skip undici: they go through the purpose-built client in ../http1.ts
 * (H1Exchange below), which keeps one deadline for the whole exchange itself. `https:` stays on undici.
 */
import { util, type Client, type Dispatcher } from 'undici';
import type { OriginConnections } from '../connections.ts';
import type { H1Handler, H1Request } from '../http1.ts';

export type BodyType = 'text' | 'binary' | 'none';

export interface ExchangeRequest extends H1Request {
  bodyType: BodyType;
  /** performance.now() at send: the start of the whole-exchange deadline. */
  sentAt: number;
}

/** Receives the status line and headers as soon as they arrive (they stay set if the body then fails). */
export interface ResponseHead {
  setHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void;
}

export interface ExchangeResult {
  readonly headers: Record<string, string | string[] | undefined>;
  /** null for bodyType 'none'. */
  readonly body: string | ArrayBuffer | null;
  /** performance.now() when the response headers arrived. */
  readonly headersAt: number;
}

const timeoutError = (code: string) => Object.assign(new Error('request timeout'), { code });
const tooLargeError = (maxBodyBytes: number) =>
  new Error(`response body larger than ${maxBodyBytes} bytes: not read further (the built-in engine bounds response bodies)`);

const NO_CHUNKS: Buffer[] = [];

/**
 * What both transports do with a response: take the head, collect the body within its bound, decode
 * it at the end. One object per request, which is also the result the exchange resolves with.
 */
class ResponseCollector implements ExchangeResult {
  headers: Record<string, string | string[] | undefined> = {};
  body: string | ArrayBuffer | null = null;
  headersAt = 0;
  private chunks: Buffer[] = NO_CHUNKS;
  private size = 0;

  constructor(
    protected readonly req: ExchangeRequest,
    private readonly head: ResponseHead,
    private readonly resolve: (r: ExchangeResult) => void,
    private readonly reject: (e: unknown) => void,
  ) {}

  protected takeHead(statusCode: number, headers: Record<string, string | string[] | undefined>, at: number): void {
    this.headers = headers;
    this.headersAt = at;
    this.head.setHead(statusCode, headers);
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > this.req.maxBodyBytes) throw tooLargeError(this.req.maxBodyBytes);
  }

  protected collect(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.req.maxBodyBytes) throw tooLargeError(this.req.maxBodyBytes);
    if (this.req.bodyType !== 'none') {
      if (this.chunks === NO_CHUNKS) this.chunks = [chunk];
      else this.chunks.push(chunk);
    }
  }

  protected succeed(): void {
    this.body = decode(this.chunks, this.size, this.req.bodyType);
    this.chunks = NO_CHUNKS;
    this.resolve(this);
  }

  protected failWith(err: unknown): void {
    this.chunks = NO_CHUNKS;
    this.reject(err);
  }
}

/** undici's handler for one request (`https:`). */
class Exchange extends ResponseCollector implements Dispatcher.DispatchHandler {
  private abort: ((err?: Error) => void) | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly connections: OriginConnections,
    private readonly client: Client,
    req: ExchangeRequest,
    head: ResponseHead,
    resolve: (r: ExchangeResult) => void,
    reject: (e: unknown) => void,
  ) {
    super(req, head, resolve, reject);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
  }

  // A throw in these handlers makes undici abort the request with that error (then onError).
  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    const now = performance.now();
    if (statusCode < 200) {
      // Each 1xx restarts undici's headersTimeout: a stream of "102 Processing" must still end on time.
      if (now - this.req.sentAt > this.req.timeoutMs) throw timeoutError('UND_ERR_HEADERS_TIMEOUT');
      return true;
    }
    this.takeHead(statusCode, util.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>, now);
    // undici's bodyTimeout restarts on every chunk: the whole body must still end on time. Armed after
    // this parse has run, so a body that came with its headers (the common case) sets no timer.
    queueMicrotask(() => this.armDeadline());
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.collect(chunk);
    return true;
  }

  onComplete(): void {
    this.finish();
    this.succeed();
  }

  onError(err: Error): void {
    this.finish();
    this.failWith(err);
  }

  private armDeadline(): void {
    if (this.done) return;
    const abort = this.abort;
    this.deadline = setTimeout(() => abort?.(timeoutError('UND_ERR_BODY_TIMEOUT')), Math.max(0, this.req.timeoutMs - (this.headersAt - this.req.sentAt)));
  }

  private finish(): void {
    this.done = true;
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.connections.release(this.client);
  }
}

/** The same exchange on the purpose-built HTTP/1.1 client (plain `http:`); it keeps the deadline itself. */
class H1Exchange extends ResponseCollector implements H1Handler {
  onHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.takeHead(statusCode, headers, performance.now());
  }

  onData(chunk: Buffer): void {
    this.collect(chunk);
  }

  onComplete(): void {
    this.succeed();
  }

  onError(err: Error): void {
    this.failWith(err);
  }
}

/** As undici's body.text() and body.arrayBuffer() decode (text skips a UTF-8 byte order mark). */
function decode(chunks: Buffer[], size: number, type: BodyType): string | ArrayBuffer | null {
  if (type === 'none') return null;
  if (type === 'text') {
    if (size === 0) return '';
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const start = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    return buf.toString('utf8', start);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out.buffer;
}

/**
 * Sends `req` on an idle connection of `connections`. Resolves when the whole body is in; rejects
 * with undici's error, or a timeout or size error, when the exchange fails.
 */
export function exchange(connections: OriginConnections, req: ExchangeRequest, head: ResponseHead): Promise<ExchangeResult> {
  const h1 = connections.h1;
  if (h1 !== undefined) return new Promise((resolve, reject) => h1.send(req, new H1Exchange(req, head, resolve, reject)));
  return new Promise((resolve, reject) => {
    const client = connections.acquire();
    client.dispatch(
      { method: req.method as Dispatcher.HttpMethod, path: req.path, headers: req.headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs },
      new Exchange(connections, client, req, head, resolve, reject),
    );
  });
}
