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
import { parseJson } from './json-body.ts';
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
        POST: async (_req, _p, body) => {
          const { proxies: created, error } = await proxies.populate(await body());
          if (!error) return { status: 201, json: { proxies: created } };
          const apiErr = isApiError(error) ? error : new ApiError(error.message, 500);
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
    const path = (req.url ?? '/').split('?')[0]!;
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) return sendText(res, 403, 'User agent not allowed\n');
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of routes) {
      match = r.pattern.exec(path);
      if (match) {
        route = r;
        break;
      }
    }
    if (!route || !match) return sendText(res, 404, '404 page not found\n');
    const handler = route.methods[req.method ?? 'GET'];
    if (!handler) return sendText(res, 405, '');
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return sendText(res, 404, '404 page not found\n');
    }
    const body = async () => parseJson(await readBody(req));
    try {
      const reply = await serialized(() => handler(req, params, body));
      if (reply.raw !== undefined) {
        res.writeHead(reply.status, { 'Content-Type': 'application/json;charset=utf-8' }).end(reply.raw);
      } else if (reply.json !== undefined) {
        res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.json));
      } else {
        res.writeHead(reply.status).end();
      }
    } catch (e) {
      if (!isApiError(e)) onError(e);
      const err = isApiError(e) ? e : new ApiError((e as Error).message ?? String(e), 500);
      // Go's http.Error: the JSON error object, sent as text/plain with a trailing newline.
      sendText(res, err.status, JSON.stringify(err) + '\n', { 'X-Content-Type-Options': 'nosniff' });
    }
  };
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
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
