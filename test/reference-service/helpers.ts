/** Shared by the reference-service tests: a real redis-server, in-process services, a small client. */
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { startService, type ServiceHandle } from '../../reference-service/service.ts';
import type { ServiceConfig } from '../../reference-service/config.ts';

export const TOKEN_A = 'tenant-a-token';
export const TOKEN_B = 'tenant-b-token';

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

export class Client {
  constructor(
    readonly url: string,
    private readonly token: string | null = TOKEN_A,
  ) {}

  async request(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...opts.headers };
    if (opts.body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    const t0 = performance.now();
    const res = await fetch(this.url + path, { method, headers, body: opts.body, signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    const ms = performance.now() - t0;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* metrics text */
    }
    return { status: res.status, body, headers: res.headers, ms };
  }

  append(session: string, turnId: string, content: string, ifMatch?: number): Promise<Answer> {
    return this.request('POST', `/v1/sessions/${session}/turns`, {
      body: JSON.stringify({ turnId, content }),
      headers: ifMatch === undefined ? {} : { 'if-match': String(ifMatch) },
    });
  }

  read(session: string, consistency?: 'strong' | 'bounded' | 'eventual'): Promise<Answer> {
    return this.request('GET', `/v1/sessions/${session}${consistency ? `?consistency=${consistency}` : ''}`);
  }

  remove(session: string): Promise<Answer> {
    return this.request('DELETE', `/v1/sessions/${session}`);
  }

  async metrics(): Promise<string> {
    return (await this.request('GET', '/metrics')).body as string;
  }
}

/**
 * A service on port 0 against `redis`, model latency 0 unless asked otherwise. The store budget is
 * generous (2 s) unless a test sets it: on a loaded 2-core box 100 ms store calls do time out, and
 * only the breaker tests are about that.
 */
export async function service(redis: RedisServer, cfg: Partial<ServiceConfig> = {}): Promise<ServiceHandle> {
  return startService({ redisUrl: redis.url, port: 0, modelLatencyMs: 0, storeTimeoutMs: 2_000, ...cfg });
}

export async function redisClient(redis: RedisServer): Promise<Redis> {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  await c.ping();
  return c;
}

export { startRedisServer, type RedisServer };

/** Sample value of a metric line (first match) from Prometheus text, or undefined. */
export function metricValue(text: string, nameWithLabels: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(nameWithLabels + ' ')) return Number(line.slice(nameWithLabels.length + 1));
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
