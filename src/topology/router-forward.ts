/**
 * Forwarding one request, and the retry rule. A request goes to another instance only when it
 * provably never reached the first: the connect was refused, or — for idempotent methods only — a
 * pooled connection was found dead. This is nginx's `proxy_next_upstream` default: a POST that may
 * have been applied is never silently sent twice; the client sees a 502 and must treat the outcome
 * as unknown.
 */
import http from 'node:http';
import { INSTANCE_HEADER } from '../contract/wire.ts';

// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
/** The code the forwarder gives an attempt that got no response head in time. */
export const UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT';

/** What one attempt that failed before any response head arrived means. */
export interface FailedAttempt {
  /** Take the instance out of rotation until a health check brings it back. */
  markDown: boolean;
  /** The request never reached the instance, so it may go to another one. */
  retry: boolean;
}

/**
 * The retry rule. `code` is the error's code (ECONNREFUSED, ECONNRESET, UPSTREAM_TIMEOUT, …);
 * `reusedSocket` whether the attempt went out on a pooled keep-alive connection.
 */
export function judgeFailedAttempt(code: string, method: string | undefined, reusedSocket: boolean): FailedAttempt {
  const refused = CONNECT_ERRORS.has(code);
  return {
    markDown: refused || code === UPSTREAM_TIMEOUT,
    // A reset on a pooled socket is most likely the instance having closed it while idle, but it
    // may have read the request first: only a method that is safe to repeat takes that bet.
    retry: refused || (code === 'ECONNRESET' && reusedSocket && IDEMPOTENT.has(method ?? '')),
  };
}

export interface Upstream {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly agent: http.Agent;
  /** Responses this instance served. */
  served: number;
  /** Requests sent to it whose exchange has not ended (a drain waits for these). */
  inFlight: number;
}

export interface ForwardContext {
  readonly upstreams: readonly Upstream[];
  /** The index of the next instance for this request, -1 when none is left. */
  choose(sessionId: string | undefined, tried: ReadonlySet<number>): number;
  /** With `unlessAnsweredSince`: a timeout, which takes out only an instance that has been silent since. */
  markDown(index: number, unlessAnsweredSince?: number): void;
  /** A response head arrived from the instance. */
  answered(index: number): void;
  /** The clock of `unlessAnsweredSince`. */
  now(): number;
  /** The instances' health in words, for the 502 that says none answered. */
  describeHealth(): string;
  readonly upstreamTimeoutMs: number;
}

export type Forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, sessionId: string | undefined) => void;

/** Answers application/problem+json, or cuts the connection when a response has already begun. */
export function answerProblem(res: http.ServerResponse, status: number, code: string, detail: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ type: 'about:blank', title: http.STATUS_CODES[status], status, code, detail });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A forwarder: sends the buffered request to the chosen instance and streams its response back. */
export function createForwarder(ctx: ForwardContext): Forward {
  const { upstreams, upstreamTimeoutMs } = ctx;

  const attempt = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    sessionId: string | undefined,
    tried: Set<number>,
    lastError: string | undefined,
  ): void => {
    const index = ctx.choose(sessionId, tried);
    if (index < 0) {
      answerProblem(res, 502, 'no_instance_available', `No instance answered${lastError ? ` (last error: ${lastError})` : ''}; instances: ${ctx.describeHealth()}.`);
      return;
    }
    const target = upstreams[index]!;
    tried.add(index);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    if (body.length > 0 || req.headers['content-length'] !== undefined) headers['content-length'] = body.length;

    let settled = false;
    target.inFlight++;
    let counted = true;
    const release = () => {
      if (counted) {
        counted = false;
        target.inFlight--;
      }
    };
    const sentAt = ctx.now();
    const upstreamReq = http.request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: target.agent },
      (upstreamRes) => {
        settled = true;
        target.served++;
        ctx.answered(index);
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        out[INSTANCE_HEADER] = target.id;
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
        upstreamRes.once('end', release);
        upstreamRes.once('close', release);
        upstreamRes.once('error', () => res.destroy());
      },
    );
    upstreamReq.setTimeout(upstreamTimeoutMs, () => {
      upstreamReq.destroy(Object.assign(new Error(`no response within ${upstreamTimeoutMs} ms`), { code: UPSTREAM_TIMEOUT }));
    });
    upstreamReq.once('error', (err: NodeJS.ErrnoException) => {
      release();
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      const code = err.code ?? 'ERROR';
      const verdict = judgeFailedAttempt(code, req.method, upstreamReq.reusedSocket);
      if (verdict.markDown) ctx.markDown(index, code === UPSTREAM_TIMEOUT ? sentAt : undefined);
      if (verdict.retry) {
        attempt(req, res, body, sessionId, tried, `${target.id}: ${code}`);
        return;
      }
      const what = code === UPSTREAM_TIMEOUT ? 'upstream_timeout' : 'upstream_error';
      answerProblem(res, 502, what, `Instance ${target.id} failed after the request was sent (${code}: ${err.message}); it may or may not have been applied.`);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
      release();
    });
    upstreamReq.end(body);
  };

  return (req, res, body, sessionId) => attempt(req, res, body, sessionId, new Set(), undefined);
}
