/**
 * A VU's keep-alive connections to one origin: one undici Client (one connection, no pipelining)
 * per request in flight, reused when idle, as many as the VU's concurrent requests need (what
 * undici's Pool with unlimited connections does, without its per-request dispatch layer, which
 * cost the engine a visible share of its throughput).
 */
import { Client } from 'undici';
import { H1Pool } from './http1.ts';
import type { TlsConnectOptions } from './k6/tls-options.ts';

const CLIENT_OPTIONS = Object.freeze({ keepAliveTimeout: 60_000, pipelining: 1 });

export class OriginConnections {
  private readonly idle: Client[] = [];
  private readonly all: Client[] = [];
  private destroyed = false;
  /** Plain `http:` origins go through the purpose-built client instead of undici Clients. */
  readonly h1: H1Pool | undefined;

  private readonly options: Client.Options;

  /** `tls`: the run's TLS options (k6's insecureSkipTLSVerify, tlsVersion, tlsCipherSuites) for https: origins. */
  constructor(
    private readonly origin: string,
    tls?: TlsConnectOptions,
  ) {
    this.h1 = origin.startsWith('http:') ? new H1Pool(origin) : undefined;
    this.options = tls ? { ...CLIENT_OPTIONS, connect: tls } : CLIENT_OPTIONS;
  }

  /** A client with no request in flight; give it back with release() when its exchange ends. */
  acquire(): Client {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    const fresh = new Client(this.origin, this.options);
    this.all.push(fresh);
    return fresh;
  }

  release(c: Client): void {
    if (!this.destroyed) this.idle.push(c);
  }

  /** Fails every request in flight and closes every connection. */
  destroy(): Promise<void> {
    this.destroyed = true;
    this.idle.length = 0;
    this.h1?.destroy();
    return Promise.all(this.all.map((c) => c.destroy().catch(() => {}))).then(() => {});
  }
}
