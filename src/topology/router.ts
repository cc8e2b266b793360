/**
 * The router: a small HTTP reverse proxy in front of N instances, like a load balancer would be.
 *
 *   client ──► router ──(policy: sticky | round-robin | random)──► instance i1 … iN
 *                 │                                                    │
 *                 ◄──── response unchanged + x-stateproof-instance ◄───┘
 *
 * It is on the hot path of every request, so it buffers only the (small) request body, keeps
 * pooled keep-alive connections per instance and streams responses back. This file composes three
 * modules along one request's way:
 *
 *   request ─► buffer the body (over maxBodyBytes: 413) ─► session id from the path
 *      │
 *      ▼
 *   forward ─► pick: the next instance that is up and not yet tried ─► none left: 502
 *      │         (router-pick.ts: sticky hash ring | round-robin | seeded random)
 *      ▼
 *   send ─► response head ─► streamed back with x-stateproof-instance
 *      │
 *      └─► failed before a head ─► the retry rule, judgeFailedAttempt (router-forward.ts):
 *                                    refused, or timed out while it answered nothing else: mark it down;
 *                                    never reached it: back to pick; else 502, outcome unknown
 *
 *   health (router-health.ts): up/down per instance, from those marks and a periodic GET /healthz
 *   (a probe that times out while the instance answers other requests is slow, not down).
 *
 * A POST that may have been applied is never silently sent twice (nginx's `proxy_next_upstream`
 * default); the client sees the 502 and must treat the outcome as unknown.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPicker, type RouterPolicy } from './router-pick.ts';
import { SESSIONS_PATH } from '../contract/wire.ts';
import { trackHealth } from './router-health.ts';
import { answerProblem, createForwarder, type Upstream } from './router-forward.ts';

export { ROUTER_POLICIES, type RouterPolicy } from './router-pick.ts';

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
  drainTimeoutMs: 5_000,
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
  /**
   * Takes an instance out of rotation and resolves once the requests already sent to it have
   * ended (or after `timeoutMs`), as a load balancer drains a backend before a deploy stops it.
   * It stays out until undrain.
   */
  drain(id: string, timeoutMs?: number): Promise<void>;
  undrain(id: string): void;
  close(): Promise<void>;
}

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
  const maxBodyBytes = opts.maxBodyBytes ?? ROUTER_DEFAULTS.maxBodyBytes;

  const upstreams: Upstream[] = opts.instances.map((i) => {
    const u = new URL(i.url);
    return {
      id: i.id,
      host: u.hostname,
      port: Number(u.port || 80),
      agent: new http.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 1_000 }),
      served: 0,
      inFlight: 0,
    };
  });
  const picker = createPicker(policy, upstreams.map((u) => u.id), opts.seed ?? ROUTER_DEFAULTS.seed);
  const health = trackHealth(upstreams, {
    path: opts.healthCheck?.path === undefined ? ROUTER_DEFAULTS.healthPath : opts.healthCheck.path,
    intervalMs: opts.healthCheck?.intervalMs ?? ROUTER_DEFAULTS.healthIntervalMs,
    timeoutMs: opts.healthCheck?.timeoutMs ?? ROUTER_DEFAULTS.healthTimeoutMs,
  });
  const forward = createForwarder({
    upstreams,
    choose: (sessionId, tried) => picker.pick(sessionId, (i) => health.isUp(i) && !tried.has(i)),
    markDown: (i, since) => health.markDown(i, since),
    answered: (i) => health.answered(i),
    now: () => health.now(),
    describeHealth: () => health.describe(),
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? ROUTER_DEFAULTS.upstreamTimeoutMs,
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        if (!refused) answerProblem(res, 413, 'request_too_large', `The router buffers at most ${maxBodyBytes} bytes of request body.`);
        refused = true;
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      forward(req, res, body, sessionIdOf(req.url ?? '/'));
    });
    req.once('error', () => res.destroy());
  });
  // Longer than typical client idle timeouts, so the client, not the router, closes idle connections.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? ROUTER_DEFAULTS.port, opts.host ?? ROUTER_DEFAULTS.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? ROUTER_DEFAULTS.host;
  const indexOf = (id: string): number => {
    const i = upstreams.findIndex((u) => u.id === id);
    if (i < 0) throw new Error(`the router has no instance '${id}'; it routes to ${upstreams.map((u) => u.id).join(', ')}`);
    return i;
  };
  let closed: Promise<void> | undefined;

  const router: Router = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    policy,
    instanceFor: (sessionId) => {
      const i = picker.owner(sessionId, (n) => health.isUp(n));
      return i < 0 ? undefined : upstreams[i]!.id;
    },
    health: () => health.snapshot(),
    served: () => Object.fromEntries(upstreams.map((u) => [u.id, u.served])),
    async drain(id, timeoutMs = ROUTER_DEFAULTS.drainTimeoutMs) {
      const index = indexOf(id);
      health.hold(index, true);
      // Polled, bounded: a request stuck upstream must not hold a deploy for ever.
      const deadline = Date.now() + timeoutMs;
      while (upstreams[index]!.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
    undrain(id) {
      health.hold(indexOf(id), false);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        health.stop();
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
