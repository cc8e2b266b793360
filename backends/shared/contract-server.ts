/**
 * The contract (reference-service/openapi.json) in front of one MemoryAdapter: routing, bearer
 * auth, input checks, problem+json answers and X-State-Mode on every response.
 *
 *   request ─► route ─► auth (token → tenant) ─► input checks ─► adapter.append/read/remove ─► JSON
 *                                                                       │ throws
 *                                                                       ▼
 *                                                   500 internal_error (the library's failure, shown)
 *
 * Input checks are the reference service's own (same ids, same codes). No adapter has a degraded
 * mode (none of the libraries has one), so X-State-Mode is always "normal"; an exception from the
 * library is answered 500, never retried or hidden, and never crashes the process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isProblemError, problemBody, ProblemError } from '../../reference-service/errors.ts';
import { checkSessionId, parseReadQuery, parseTurnBody, readBody } from '../../reference-service/http/input.ts';
import { replyFor, type MemoryAdapter, type SessionRef } from './memory.ts';

export interface ContractServerOptions {
  adapter: MemoryAdapter;
  /** token → tenant */
  tokens: ReadonlyMap<string, string>;
  /** Shown in /healthz and in stderr lines. */
  name: string;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export interface ContractServer extends AsyncDisposable {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

const SESSIONS = '/v1/sessions/';
const MODE = 'normal';

export function createContractServer(opts: ContractServerOptions): http.Server {
  const { adapter, tokens, name } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024;
  const log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));

  function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
    const headers: Record<string, string | number> = { 'x-state-mode': MODE };
    let text: string | null = null;
    if (body !== null) {
      text = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(text);
    }
    res.writeHead(status, headers);
    res.end(text);
  }

  function sendProblem(res: ServerResponse, e: ProblemError, path: string): void {
    const extra: Record<string, string> = {};
    if (e.retryAfterS !== undefined) extra['retry-after'] = String(e.retryAfterS);
    if (e.code === 'body_too_large') extra.connection = 'close';
    const body = problemBody(e.code, e.detail, path.length <= 256 ? path : undefined);
    res.writeHead(e.status, { 'x-state-mode': MODE, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    try {
      if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
        if (method !== 'GET') throw new ProblemError('method_not_allowed');
        if (path === '/healthz') return send(res, 200, { status: 'ok', instance: name, schemaVersion: 1, mode: MODE, versions: adapter.versions });
        // None of the libraries exports metrics; the profile maps none, so the harness skips them.
        if (path === '/metrics') throw new ProblemError('route_not_found', 'this adapter has no metrics: its library exports none');
        if (!(await adapter.ready())) throw new ProblemError('store_unavailable', "the library's store client is not connected", 1);
        return send(res, 200, { status: 'ready', instance: name, mode: MODE });
      }
      if (!path.startsWith(SESSIONS)) throw new ProblemError('route_not_found');
      const rest = path.slice(SESSIONS.length);
      const slash = rest.indexOf('/');
      const isTurns = slash !== -1;
      if (isTurns && rest.slice(slash) !== '/turns') throw new ProblemError('route_not_found');
      if (isTurns ? method !== 'POST' : method !== 'GET' && method !== 'DELETE') throw new ProblemError('method_not_allowed');
      const tenant = authenticate(req.headers.authorization, tokens);
      const ref: SessionRef = { tenant, sessionId: checkSessionId(isTurns ? rest.slice(0, slash) : rest) };

      if (isTurns) {
        const ct = req.headers['content-type'];
        if (ct === undefined || !/^application\/json\s*(;|$)/i.test(ct)) throw new ProblemError('unsupported_media_type');
        const body = parseTurnBody(await readBody(req, maxBodyBytes));
        // No library here has a compare-and-set; accepting If-Match and ignoring it would be a lie.
        if (req.headers['if-match'] !== undefined) throw new ProblemError('invalid_if_match', 'this backend has no conditional append (its library offers no compare-and-set)');
        const reply = replyFor(body.content);
        const out = await adapter.append(ref, { turnId: body.turnId, content: body.content, reply });
        return send(res, 200, { sessionId: ref.sessionId, revision: out.turnCount, schemaVersion: 1, turnCount: out.turnCount, applied: out.applied, reply, mode: MODE });
      }
      if (method === 'GET') {
        // Only strong is declared: every read goes to the library's store; there is no cache or replica.
        if (parseReadQuery(query, 'strong') !== 'strong') throw new ProblemError('invalid_query', 'this backend serves only consistency=strong');
        const view = await adapter.read(ref);
        if (view === undefined) throw new ProblemError('session_not_found');
        res.setHeader('etag', `"${view.turnCount}"`);
        return send(res, 200, { sessionId: ref.sessionId, revision: view.turnCount, schemaVersion: 1, turnCount: view.turnCount, turns: view.turns, summary: '', bytes: view.bytes, mode: MODE });
      }
      if (!(await adapter.remove(ref))) throw new ProblemError('session_not_found');
      return send(res, 204, null);
    } catch (e) {
      if (!isProblemError(e)) log(`${name}: ${method} ${path.slice(0, 200)}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      sendProblem(res, isProblemError(e) ? e : new ProblemError('internal_error', describe(e), undefined, { cause: e }), path);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log(`${name}: response failed: ${String(e)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const body = problemBody('malformed_request', undefined, undefined);
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nX-State-Mode: ${MODE}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  return server;
}

/** Listens on host:port (0 = ephemeral); close() also closes the adapter. */
export async function startContractServer(opts: ContractServerOptions & { host?: string; port?: number }): Promise<ContractServer> {
  const server = createContractServer(opts);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await opts.adapter.close();
    })());
  return { url: `http://${host}:${port}`, server, close, [Symbol.asyncDispose]: close };
}

function authenticate(header: string | undefined, tokens: ReadonlyMap<string, string>): string {
  if (header === undefined || header === '') throw new ProblemError('unauthorized');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new ProblemError('unauthorized', 'expected "Authorization: Bearer <token>"');
  const tenant = tokens.get(m[1]!);
  if (tenant === undefined) throw new ProblemError('invalid_token');
  return tenant;
}

/** The library's own words, one line, so a 500 says what the library said. */
function describe(e: unknown): string {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return `the library failed: ${msg.split('\n')[0]!.slice(0, 300)}`;
}
