/**
 * The HTTP layer on node:http: routing, backpressure, auth, input checks, problem+json answers,
 * the X-State-Mode header, per-route request counts and the audit record. Handlers hold the logic.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isProblemError, problemBody, ProblemError, type ProblemCode } from '../errors.ts';
import type { AuditLog } from '../observability/audit.ts';
import type { AuditResult } from '../../src/contract/audit.ts';
import { INSTANCE_HEADER, OPS_PATHS, SESSIONS_PATH, STATE_MODE_HEADER, TURNS_SUFFIX, type Op } from '../../src/contract/wire.ts';
import { checkSessionId, parseIfMatch, parseReadQuery, parseTurnBody, readBody } from './input.ts';
import { appendTurnHandler } from '../handlers/turn.ts';
import { readSessionHandler } from '../handlers/read.ts';
import { deleteSessionHandler } from '../handlers/remove.ts';
import type { Mode, Outcome, ServiceContext } from '../handlers/context.ts';

export interface HttpDeps {
  ctx: ServiceContext;
  audit: AuditLog;
  tokens: ReadonlyMap<string, string>;
}

const auditResultFor: Partial<Record<ProblemCode, AuditResult>> = {
  revision_conflict: 'conflict',
  state_too_large: 'too_large',
  unsupported_schema_version: 'unsupported_schema',
  store_unavailable: 'unavailable',
  write_contention: 'unavailable',
  session_not_found: 'not_found',
};

export function createHttpServer(deps: HttpDeps): http.Server {
  const { ctx, audit, tokens } = deps;
  const { cfg, metrics } = ctx;
  let inflight = 0;

  const baseMode = (): Mode => (ctx.guard.state() === 'open' ? 'degraded' : 'normal');

  function send(res: ServerResponse, route: string, status: number, body: string | null, mode: Mode, contentType: string, extra?: Record<string, string>): void {
    metrics.http(route, status);
    const headers: Record<string, string | number> = { [STATE_MODE_HEADER]: mode, [INSTANCE_HEADER]: cfg.instanceId, ...extra };
    if (body !== null) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(body);
    }
    res.writeHead(status, headers);
    res.end(body);
  }

  function sendProblem(res: ServerResponse, route: string, e: ProblemError, path: string, closeConnection = false): void {
    const extra: Record<string, string> = {};
    if (e.retryAfterS !== undefined) extra['retry-after'] = String(e.retryAfterS);
    if (closeConnection) extra.connection = 'close';
    const mode: Mode = e.code === 'store_unavailable' ? 'degraded' : baseMode();
    // Every answer flagged degraded is counted, a 404 or 409 served while the breaker is open too:
    // the counter is what clients see flagged (found by the tenant probes' never-written reads).
    if (mode === 'degraded') metrics.degraded();
    send(res, route, e.status, problemBody(e.code, e.detail, path.length <= 256 ? path : undefined), mode, 'application/problem+json', extra);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    let route = 'other';
    let auditOp: Op | undefined;
    let tenant = '';
    let sessionId = '';
    let turnId: string | undefined;
    try {
      if (path === OPS_PATHS.metrics || path === OPS_PATHS.healthz || path === OPS_PATHS.readyz) {
        route = path.slice(1);
        if (method !== 'GET') throw new ProblemError('method_not_allowed');
        return await serveOps(res, route);
      }
      if (!path.startsWith(SESSIONS_PATH)) throw new ProblemError('route_not_found');
      const rest = path.slice(SESSIONS_PATH.length);
      const slash = rest.indexOf('/');
      let rawId: string;
      if (slash === -1) {
        route = 'session';
        rawId = rest;
        if (method !== 'GET' && method !== 'DELETE') throw new ProblemError('method_not_allowed');
      } else {
        if (rest.slice(slash) !== TURNS_SUFFIX) throw new ProblemError('route_not_found');
        route = 'turns';
        rawId = rest.slice(0, slash);
        if (method !== 'POST') throw new ProblemError('method_not_allowed');
      }
      tenant = authenticate(req.headers.authorization, tokens);
      sessionId = checkSessionId(rawId);

      let outcome: Outcome;
      if (route === 'turns') {
        const ct = req.headers['content-type'];
        if (ct === undefined || !/^application\/json\s*(;|$)/i.test(ct)) throw new ProblemError('unsupported_media_type');
        const body = parseTurnBody(await readBody(req, cfg.maxBodyBytes));
        const ifMatch = parseIfMatch(req.headers['if-match']);
        auditOp = 'append';
        turnId = body.turnId;
        outcome = await appendTurnHandler(ctx, tenant, sessionId, body, ifMatch);
      } else if (method === 'GET') {
        const consistency = parseReadQuery(query, cfg.defaultConsistency);
        auditOp = 'read';
        outcome = await readSessionHandler(ctx, tenant, sessionId, consistency);
      } else {
        auditOp = 'delete';
        outcome = await deleteSessionHandler(ctx, tenant, sessionId);
      }
      if (auditOp && audit.enabled) audit.record({ tenant, session: sessionId, op: auditOp, status: outcome.status, ...outcome.audit });
      if (outcome.mode === 'degraded') metrics.degraded();
      send(res, route, outcome.status, outcome.body === null ? null : JSON.stringify(outcome.body), outcome.mode, 'application/json', outcome.headers);
    } catch (e) {
      const p = isProblemError(e) ? e : new ProblemError('internal_error', undefined, undefined, { cause: e });
      if (!isProblemError(e)) {
        const what = e instanceof Error ? (process.env.STATEPROOF_DEBUG ? (e.stack ?? e.message) : `${e.name}: ${e.message}`) : String(e);
        process.stderr.write(`stateproof-service ${cfg.instanceId}: ${req.method} ${path.slice(0, 200)}: ${what}\n`);
      }
      if (auditOp && audit.enabled) {
        audit.record({ tenant, session: sessionId, op: auditOp, status: p.status, result: auditResultFor[p.code] ?? 'error', ...(turnId !== undefined ? { turnId } : {}) });
      }
      sendProblem(res, route, p, path, p.code === 'body_too_large');
    }
  }

  async function serveOps(res: ServerResponse, route: string): Promise<void> {
    const mode = baseMode();
    if (route === 'metrics') {
      const text = await metrics.registry.metrics();
      return send(res, route, 200, text, mode, metrics.registry.contentType);
    }
    if (route === 'healthz') {
      const body = { status: 'ok', instance: cfg.instanceId, schemaVersion: cfg.schemaVersion, unsafe: cfg.unsafe, breaker: ctx.guard.state(), inflight, mode };
      return send(res, route, 200, JSON.stringify(body), mode, 'application/json');
    }
    const status = await ctx.store.status();
    if (status !== 'ready') throw new ProblemError('store_unavailable', `${cfg.postgresUrl ? 'postgres' : 'redis'} connection is ${status}`, cfg.retryAfterSeconds);
    return send(res, route, 200, JSON.stringify({ status: 'ready', instance: cfg.instanceId, mode }), mode, 'application/json');
  }

  const server = http.createServer((req, res) => {
    if (inflight >= cfg.maxInflight) {
      sendProblem(res, 'other', new ProblemError('overloaded', `more than ${cfg.maxInflight} requests in flight`, cfg.retryAfterSeconds), '');
      return;
    }
    inflight++;
    res.once('close', () => inflight--);
    handle(req, res).catch((e) => {
      process.stderr.write(`stateproof-service ${cfg.instanceId}: response failed: ${String(e)}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 65_000;
  // Requests Node cannot even parse never reach the handler; without this they would get Node's
  // bare 400 with no problem body and no X-State-Mode.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) return socket.destroy();
    const body = problemBody('malformed_request', undefined, undefined);
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\n${STATE_MODE_HEADER}: normal\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  return server;
}

function authenticate(header: string | undefined, tokens: ReadonlyMap<string, string>): string {
  if (header === undefined || header === '') throw new ProblemError('unauthorized');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new ProblemError('unauthorized', 'expected "Authorization: Bearer <token>"');
  const tenant = tokens.get(m[1]!);
  if (tenant === undefined) throw new ProblemError('invalid_token');
  return tenant;
}

