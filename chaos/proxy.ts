/**
 * One proxy: a listener that accepts clients and connects each to the upstream, with the
 * proxy's toxics on both directions (Toxiproxy's proxy.go).
 *
 *   Client <-> proxy (listen) <-> Upstream
 *
 * Disabled (`enabled: false`) means not listening — new clients are refused — and every open
 * connection is closed. A client whose upstream cannot be reached is accepted, then closed.
 */
import net from 'node:net';
import { ProxyAlreadyStarted } from './api-errors.ts';
import { bridge } from './bridge.ts';
import type { DataWorkers } from './data-workers.ts';
import type { Connection } from './link.ts';
import type { Random } from '../src/base/random.ts';
import { ToxicCollection, type ToxicJson } from './toxic-collection.ts';
import { joinHostPort, splitHostPort } from './host-port.ts';

export const PROXY_DEFAULTS = Object.freeze({
  /**
   * Client connections one proxy holds at once (each also holds an upstream socket). Beyond it a new
   * client is closed as soon as it is accepted and counted in `droppedConnections`, so a client that
   * leaks connections cannot exhaust the harness's file descriptors. Toxiproxy itself has no bound.
   */
  maxConnections: 4096,
});

export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  /** Toxiproxy's Proxy struct has an exported *zerolog.Logger with no JSON tag: it marshals as {}. */
  Logger: Record<string, never>;
  toxics: ToxicJson[];
}

/** The listen error as Go's net.Listen words it, e.g. "listen tcp 127.0.0.1:3310: bind: address already in use". */
function listenError(address: string, e: NodeJS.ErrnoException): Error {
  // Go resolves the host before binding: an unknown name is a lookup error, not a bind error.
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new Error(`listen tcp: lookup ${(e as { hostname?: string }).hostname ?? address}: no such host`);
  const reasons: Record<string, string> = {
    EADDRINUSE: 'bind: address already in use',
    EADDRNOTAVAIL: 'bind: cannot assign requested address',
    EACCES: 'bind: permission denied',
  };
  return new Error(`listen tcp ${address}: ${reasons[e.code ?? ''] ?? e.message}`);
}

let proxySeq = 0;

export class Proxy {
  enabled = false;
  /** Names the proxy to data workers: a proxy made again under the same name starts with no toxics there. */
  private readonly key = `${++proxySeq}`;
  readonly toxics: ToxicCollection;
  private readonly connections = new Set<Connection>();
  private readonly pending = new Set<net.Socket>();
  private server: net.Server | undefined;
  private dropped = 0;

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly defaultHost: string,
    private readonly random: Random,
    private readonly maxConnections: number = PROXY_DEFAULTS.maxConnections,
    /** When set, connections are handed to these processes and the toxics mirrored to them. */
    private readonly workers?: DataWorkers,
  ) {
    this.toxics = new ToxicCollection(() => this.connections, workers && ((change) => workers.post({ ...change, proxy: this.key })));
  }

  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, Logger: {}, toxics: this.toxics.list() };
  }

  /** Throws a plain Error (a 500 on the API) when the address cannot be used. */
  resolveListen(listen: string): string {
    const hp = splitHostPort(listen, this.defaultHost);
    if (!hp) throw new Error(`listen tcp: address ${listen}: missing port in address`);
    return joinHostPort(hp);
  }

  async start(): Promise<void> {
    if (this.enabled) throw new ProxyAlreadyStarted();
    const address = this.resolveListen(this.listen);
    const hp = splitHostPort(address, this.defaultHost)!;
    // Paused until its upstream is connected: it then reads into the shared buffer (./shared-read.ts).
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => this.accept(client));
    server.maxConnections = this.maxConnections;
    server.on('drop', () => this.dropped++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(listenError(address, e)));
      server.listen(hp.port, hp.host, () => resolve());
    });
    server.on('error', () => {});
    const bound = server.address() as net.AddressInfo;
    this.listen = joinHostPort({ host: bound.address, port: bound.port });
    this.server = server;
    this.enabled = true;
  }

  stop(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.server?.close();
    this.server = undefined;
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    this.workers?.post({ t: 'stop', proxy: this.key });
  }

  /** Toxiproxy's Update: a changed listen or upstream restarts the proxy; then `enabled` is applied. */
  async update(input: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    const listen = this.resolveListen(input.listen);
    if (listen !== this.listen || input.upstream !== this.upstream) {
      this.stop();
      this.listen = listen;
      this.upstream = input.upstream;
    }
    if (input.enabled !== this.enabled) {
      if (input.enabled) await this.start();
      else this.stop();
    }
  }

  differs(listen: string, upstream: string): boolean {
    return this.resolveListen(listen) !== this.listen || upstream !== this.upstream;
  }

  private accept(client: net.Socket): void {
    if (this.workers) {
      // net.Server's own bound no longer sees a client once it is handed over: count here.
      if (this.connectionCount >= this.maxConnections) {
        this.dropped++;
        client.destroy();
        return;
      }
      this.workers.handOff(client, this.key, this.upstream, Math.floor(this.random() * 2 ** 32));
      return;
    }
    bridge(client, {
      upstream: this.upstream,
      chains: () => this.toxics.snapshot(),
      random: this.random,
      pending: this.pending,
      stillWanted: () => this.enabled,
      opened: (c) => this.connections.add(c),
      closed: (c) => this.connections.delete(c),
    });
  }

  /** Clients closed at accept because `maxConnections` were open. */
  get droppedConnections(): number {
    return this.dropped;
  }

  /** Open client connections, for tests and the runner's checks. */
  get connectionCount(): number {
    return this.connections.size + (this.workers?.openConnections(this.key) ?? 0);
  }
}
