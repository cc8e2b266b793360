/**
 * Toxiproxy's HTTP API (api.go): the same routes, JSON shapes, status codes and error bodies, so
 * toxiproxy-node-client, toxiproxy-cli and other Toxiproxy tooling work unchanged.
 *
 *   GET /version                          GET|POST /proxies        POST /populate     POST /reset
 *   GET|POST|PATCH|DELETE /proxies/{p}     GET|POST /proxies/{p}/toxics
 *   GET|POST|PATCH|DELETE /proxies/{p}/toxics/{t}
 *
 * Requests are handled one at a time (Toxiproxy takes a lock per collection); none of them
 * waits on traffic, so a busy proxy never makes the API hang.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, apiErrors, isApiError } from './api-errors.ts';
import { randomBytes } from 'node:crypto';
import { decodeGoJson } from './json-body.ts';
import { decodeProxy, type ProxyCollection } from './proxy-collection.ts';

/** Reported by GET /version: the Toxiproxy release whose API this mirrors. */
export const TOXIPROXY_API_VERSION = '2.12.0';
const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (req: IncomingMessage, params: string[], body: () => Promise<unknown>) => Promise<Reply>;
interface Reply {
  status: number;
  json?: unknown;
  raw?: string;
}

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

export function createApiHandler(proxies: ProxyCollection, onError: (e: unknown) => void = () => {}) {
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  const proxyUpdate: Handler = async (_req, [name], body) => {
    const proxy = proxies.get(name!);
    const input = decodeProxy(await body());
    await proxy.update({ listen: input.listen || proxy.listen, upstream: input.upstream || proxy.upstream, enabled: input.enabled ?? proxy.enabled });
    return { status: 200, json: proxy };
  };
  const toxicUpdate: Handler = async (_req, [name, toxic], body) => ({ status: 200, json: proxies.get(name!).toxics.update(toxic!, await body()) });

  const routes: Route[] = [
    { pattern: /^\/version$/, methods: { GET: async () => ({ status: 200, raw: `{"version": "${TOXIPROXY_API_VERSION}"}\n` }) } },
    { pattern: /^\/reset$/, methods: { POST: async () => (await proxies.reset(), { status: 204 }) } },
    {
      pattern: /^\/proxies$/,
      methods: {
        GET: async () => ({ status: 200, json: Object.fromEntries(proxies.all().map((p) => [p.name, p])) }),
        POST: async (_req, _p, body) => {
          const input = decodeProxy(await body());
          if (input.name.length < 1) throw apiErrors.missingField('name');
          if (input.upstream.length < 1) throw apiErrors.missingField('upstream');
          return { status: 201, json: await proxies.add(input) };
        },
      },
    },
    {
      pattern: /^\/populate$/,
      methods: {
        // Errors here, a bad body included, are the populate answer itself: application/json with
        // the proxies made so far, and an empty list marshals as null (a nil Go slice).
        POST: async (_req, _p, body) => {
          let result: { proxies: unknown[]; error?: Error };
          try {
            result = await proxies.populate(await body());
          } catch (e) {
            result = { proxies: [], error: e as Error };
          }
          const created = result.proxies.length ? result.proxies : null;
          if (!result.error) return { status: 201, json: { proxies: created } };
          const apiErr = isApiError(result.error) ? result.error : new ApiError(result.error.message, 500);
          return { status: apiErr.status, json: { ...apiErr.toJSON(), proxies: created } };
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)$/,
      methods: {
        GET: async (_req, [name]) => ({ status: 200, json: proxies.get(name!) }),
        POST: proxyUpdate,
        PATCH: proxyUpdate,
        DELETE: async (_req, [name]) => (proxies.remove(name!), { status: 204 }),
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics$/,
      methods: {
        GET: async (_req, [name]) => ({ status: 200, json: proxies.get(name!).toxics.list() }),
        // Toxiproxy answers 200 (not 201) to a created toxic.
        POST: async (_req, [name], body) => {
          const proxy = proxies.get(name!);
          return { status: 200, json: proxy.toxics.add(await body()) };
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
      methods: {
        GET: async (_req, [name, toxic]) => ({ status: 200, json: proxies.get(name!).toxics.get(toxic!) }),
        POST: toxicUpdate,
        PATCH: toxicUpdate,
        DELETE: async (_req, [name, toxic]) => (proxies.get(name!).toxics.remove(toxic!), { status: 204 }),
      },
    },
  ];

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) return sendError(res, 403, 'User agent not allowed\n');
    const path = (req.url ?? '/').split('?')[0]!;
    // Go's server refuses a malformed %-escape itself, before any handler.
    try {
      decodeURIComponent(path);
    } catch {
      return sendError(res, 400, '400 Bad Request');
    }
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of routes) {
      match = r.pattern.exec(path);
      if (match) {
        route = r;
        break;
      }
    }
    if (!route || !match) return sendError(res, 404, '404 page not found\n');
    const handler = route.methods[req.method ?? 'GET'];
    if (!handler) return send(res, 405, {}, ''); // mux's method-not-allowed: no body, no Content-Type
    // Names are decoded per path segment, so "/proxies/a%2Fb" is the proxy "a/b". gorilla/mux decodes
    // the whole path first, which makes such a proxy unreachable (404) in Toxiproxy: a deliberate difference.
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    res.setHeader('X-Toxiproxy-Request-Id', requestId());
    const body = async () => decodeGoJson(await readBody(req));
    try {
      // With data workers, a change is answered only once every worker has it (see ./data-workers.ts).
      const reply = await serialized(async () => {
        try {
          return await handler(req, params, body);
        } finally {
          if (req.method !== 'GET') await proxies.settled();
        }
      });
      if (reply.raw !== undefined) send(res, reply.status, { 'Content-Type': 'application/json;charset=utf-8' }, reply.raw);
      else if (reply.json !== undefined) send(res, reply.status, { 'Content-Type': 'application/json' }, JSON.stringify(reply.json));
      else send(res, reply.status, {}, '');
    } catch (e) {
      if (!isApiError(e)) onError(e);
      const err = isApiError(e) ? e : new ApiError((e as Error).message ?? String(e), 500);
      sendError(res, err.status, JSON.stringify(err) + '\n');
    }
  };
}

/** With Content-Length, as Go's server sends a body written in one piece (never chunked). */
function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
}

/** Go's http.Error: text/plain, nosniff, the text as given (API errors pass their JSON object). */
function sendError(res: ServerResponse, status: number, text: string): void {
  send(res, status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, text);
}

/**
 * An id in the shape of the xid that Toxiproxy's request-id middleware (rs/xid) puts in
 * X-Toxiproxy-Request-Id: 12 bytes (seconds, machine, pid, counter) in lowercase base32hex.
 */
const XID_MACHINE = randomBytes(3);
let xidCounter = randomBytes(3).readUIntBE(0, 3);
function requestId(): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  XID_MACHINE.copy(b, 4);
  b.writeUInt16BE(process.pid & 0xffff, 7);
  xidCounter = (xidCounter + 1) & 0xffffff;
  b.writeUIntBE(xidCounter, 9, 3);
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let out = '';
  // 96 bits in 5-bit groups, the last one padded: 20 characters, as xid encodes them.
  for (let bit = 0; bit < 100; bit += 5) {
    const byte = bit >> 3;
    const word = ((b[byte] ?? 0) << 8) | (b[byte + 1] ?? 0);
    out += alphabet[(word >> (11 - (bit & 7))) & 31];
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw apiErrors.badRequestBody(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
