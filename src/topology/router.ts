/**
 * The router: a small HTTP reverse proxy in front of N instances, like a load balancer would be.
 *
 *   client ──► router ──(policy: sticky | round-robin | random)──► instance i1 … iN
 *                 │                                                    │
 *                 ◄──── response unchanged + x-stateproof-instance ◄───┘
 *
 * It is on the hot path of every request, so it buffers only the (small) request body, keeps
 * pooled keep-alive connections per instance and streams responses back.
 *
 * Health is passive (a refused connect or a timeout marks an instance down at once) and active
 * (a periodic GET /healthz brings it back or takes it out). A request is retried on another instance
 * only when it provably never reached the first: the connect was refused, or — for idempotent
 * methods only — a pooled connection was found dead. This is nginx's `proxy_next_upstream` default:
 * a POST that may have been applied is never silently sent twice; the client sees a 502 and must
 * treat the outcome as unknown.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashRing } from './hash-ring.ts';
import { INSTANCE_HEADER, SESSIONS_PATH } from '../contract/wire.ts';
import { seededRandom } from '../base/random.ts';

export type RouterPolicy = 'sticky' | 'round-robin' | 'random';
export const ROUTER_POLICIES: readonly RouterPolicy[] = ['sticky', 'round-robin', 'random'];

export interface RouterInstance {
  id: string;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
}

export interface RouterOptions {
  instances: RouterInstance[];
  policy?: RouterPolicy;
  host?: string;
  port?: number;
  /** Seed of the `random` policy, so a run can be reproduced. */
  seed?: number;
  /** Active health checks; `path: null` turns them off (passive checks still apply). */
  healthCheck?: { path?: string | null; intervalMs?: number; timeoutMs?: number };
  /** How long to wait for an instance's response headers before answering 502. */
  upstreamTimeoutMs?: number;
  /** Request bodies above this are refused with 413 by the router itself. */
  maxBodyBytes?: number;
}

export const ROUTER_DEFAULTS = {
  policy: 'sticky' as RouterPolicy,
  host: '127.0.0.1',
  port: 0,
  seed: 1,
  healthPath: '/healthz',
  healthIntervalMs: 500,
  healthTimeoutMs: 1_000,
  upstreamTimeoutMs: 30_000,
  maxBodyBytes: 16 * 1024 * 1024,
} as const;

export interface Router extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly policy: RouterPolicy;
  /** Which instance a session would be sent to now (sticky), for tests and the report. */
  instanceFor(sessionId: string): string | undefined;
  /** Current health as the router sees it. */
  health(): Record<string, boolean>;
  /** Responses served per instance since start. */
  served(): Record<string, number>;
  close(): Promise<void>;
}

interface Upstream {
  id: string;
  host: string;
  port: number;
  agent: http.Agent;
  up: boolean;
  served: number;
  probing: boolean;
}

// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** The session id of a contract path (/v1/sessions/{id}[/...]), or undefined. */
export function sessionIdOf(url: string): string | undefined {
  const prefix = SESSIONS_PATH;
  if (!url.startsWith(prefix)) return undefined;
  let end = url.length;
  for (let i = prefix.length; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) {
      end = i;
      break;
    }
  }
  return end > prefix.length ? url.slice(prefix.length, end) : undefined;
}


export async function startRouter(opts: RouterOptions): Promise<Router> {
  if (opts.instances.length === 0) throw new Error('startRouter needs at least one instance');
  const policy = opts.policy ?? ROUTER_DEFAULTS.policy;
  const upstreamTimeoutMs = opts.upstreamTimeoutMs ?? ROUTER_DEFAULTS.upstreamTimeoutMs;
  const maxBodyBytes = opts.maxBodyBytes ?? ROUTER_DEFAULTS.maxBodyBytes;
  const healthPath = opts.healthCheck?.path === undefined ? ROUTER_DEFAULTS.healthPath : opts.healthCheck.path;
  const healthIntervalMs = opts.healthCheck?.intervalMs ?? ROUTER_DEFAULTS.healthIntervalMs;
  const healthTimeoutMs = opts.healthCheck?.timeoutMs ?? ROUTER_DEFAULTS.healthTimeoutMs;

  const upstreams: Upstream[] = opts.instances.map((i) => {
    const u = new URL(i.url);
    return {
      id: i.id,
      host: u.hostname,
      port: Number(u.port || 80),
      agent: new http.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 1_000 }),
      up: true,
      served: 0,
      probing: false,
    };
  });
  const ring = new HashRing(upstreams.map((u) => u.id));
  const random = seededRandom(opts.seed ?? ROUTER_DEFAULTS.seed);
  let cursor = 0;

  /** The next instance to try, or undefined when every instance is down or already tried. */
  const choose = (sessionId: string | undefined, tried: Set<number>): Upstream | undefined => {
    const usable = (i: number) => upstreams[i]!.up && !tried.has(i);
    if (policy === 'sticky' && sessionId !== undefined) {
      const i = ring.lookup(sessionId, usable);
      return i < 0 ? undefined : upstreams[i];
    }
    const candidates: number[] = [];
    for (let i = 0; i < upstreams.length; i++) if (usable(i)) candidates.push(i);
    if (candidates.length === 0) return undefined;
    if (policy === 'random') return upstreams[candidates[Math.floor(random() * candidates.length)]!];
    // Round-robin over all instances, skipping unusable ones, so the spread stays even.
    for (let step = 0; step < upstreams.length; step++) {
      const i = cursor++ % upstreams.length;
      if (usable(i)) return upstreams[i];
    }
    return undefined;
  };

  const problem = (res: http.ServerResponse, status: number, code: string, detail: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ type: 'about:blank', title: http.STATUS_CODES[status], status, code, detail });
    res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    sessionId: string | undefined,
    tried: Set<number>,
    lastError: string | undefined,
  ): void => {
    const target = choose(sessionId, tried);
    if (!target) {
      problem(res, 502, 'no_instance_available', `No instance answered${lastError ? ` (last error: ${lastError})` : ''}; instances: ${upstreams.map((u) => `${u.id}=${u.up ? 'up' : 'down'}`).join(', ')}.`);
      return;
    }
    tried.add(upstreams.indexOf(target));
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    if (body.length > 0 || req.headers['content-length'] !== undefined) headers['content-length'] = body.length;

    let settled = false;
    const upstreamReq = http.request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: target.agent },
      (upstreamRes) => {
        settled = true;
        target.served++;
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        out[INSTANCE_HEADER] = target.id;
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
        upstreamRes.once('error', () => res.destroy());
      },
    );
    upstreamReq.setTimeout(upstreamTimeoutMs, () => {
      upstreamReq.destroy(Object.assign(new Error(`no response within ${upstreamTimeoutMs} ms`), { code: 'UPSTREAM_TIMEOUT' }));
    });
    upstreamReq.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      const code = err.code ?? 'ERROR';
      const neverArrived = CONNECT_ERRORS.has(code) || (code === 'ECONNRESET' && upstreamReq.reusedSocket && IDEMPOTENT.has(req.method ?? ''));
      if (CONNECT_ERRORS.has(code) || code === 'UPSTREAM_TIMEOUT') markDown(target);
      if (neverArrived) {
        forward(req, res, body, sessionId, tried, `${target.id}: ${code}`);
        return;
      }
      const what = code === 'UPSTREAM_TIMEOUT' ? 'upstream_timeout' : 'upstream_error';
      problem(res, 502, what, `Instance ${target.id} failed after the request was sent (${code}: ${err.message}); it may or may not have been applied.`);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    upstreamReq.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        if (!refused) problem(res, 413, 'request_too_large', `The router buffers at most ${maxBodyBytes} bytes of request body.`);
        refused = true;
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      forward(req, res, body, sessionIdOf(req.url ?? '/'), new Set(), undefined);
    });
    req.once('error', () => res.destroy());
  });
  // Longer than typical client idle timeouts, so the client, not the router, closes idle connections.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const markDown = (u: Upstream) => {
    u.up = false;
  };

  const probe = (u: Upstream) => {
    if (u.probing || healthPath === null) return;
    u.probing = true;
    const done = (ok: boolean) => {
      if (!u.probing) return;
      u.probing = false;
      u.up = ok;
    };
    // A fresh connection each time: a pooled socket could hide that the process is gone.
    const r = http.get({ host: u.host, port: u.port, path: healthPath, agent: false, timeout: healthTimeoutMs }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 500);
    });
    r.once('timeout', () => r.destroy(new Error('health check timed out')));
    r.once('error', () => done(false));
  };
  const timer = healthPath === null ? undefined : setInterval(() => upstreams.forEach(probe), healthIntervalMs);
  timer?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? ROUTER_DEFAULTS.port, opts.host ?? ROUTER_DEFAULTS.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? ROUTER_DEFAULTS.host;
  let closed: Promise<void> | undefined;

  const router: Router = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    policy,
    instanceFor: (sessionId) => {
      const i = ring.lookup(sessionId, (n) => upstreams[n]!.up);
      return i < 0 ? undefined : upstreams[i]!.id;
    },
    health: () => Object.fromEntries(upstreams.map((u) => [u.id, u.up])),
    served: () => Object.fromEntries(upstreams.map((u) => [u.id, u.served])),
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
        for (const u of upstreams) u.agent.destroy();
      });
      return closed;
    },
    [Symbol.asyncDispose]: () => router.close(),
  };
  return router;
}
