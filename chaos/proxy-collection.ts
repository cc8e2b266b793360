/**
 * The set of proxies by name, guarding against duplicates (Toxiproxy's proxy_collection.go).
 */
import { apiErrors, ProxyAlreadyStarted } from './api-errors.ts';
import { asObject, field } from './json-body.ts';
import type { DataWorkers } from './data-workers.ts';
import { Proxy } from './proxy.ts';
import type { Random } from '../src/base/random.ts';

export interface ProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean | undefined;
}

/** Decode one proxy object as Go would into toxiproxy.Proxy (unknown keys ignored). */
export function decodeProxy(raw: unknown): ProxyInput {
  const o = asObject(raw, 'toxiproxy.Proxy');
  return {
    name: field<string>(o, 'name', 'string', 'Proxy') ?? '',
    listen: field<string>(o, 'listen', 'string', 'Proxy') ?? '',
    upstream: field<string>(o, 'upstream', 'string', 'Proxy') ?? '',
    enabled: field<boolean>(o, 'enabled', 'bool', 'Proxy'),
  };
}

export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();

  constructor(
    private readonly defaultHost: string,
    private readonly random: Random,
    private readonly maxConnectionsPerProxy?: number,
    private readonly workers?: DataWorkers,
  ) {}

  /** Resolves once every change so far has reached the data workers (at once without them). */
  settled(): Promise<void> {
    return this.workers ? this.workers.sync() : Promise.resolve();
  }

  all(): Proxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): Proxy {
    const p = this.proxies.get(name);
    if (!p) throw apiErrors.proxyNotFound();
    return p;
  }

  create(input: ProxyInput): Proxy {
    return new Proxy(input.name, input.listen, input.upstream, this.defaultHost, this.random, this.maxConnectionsPerProxy, this.workers);
  }

  async add(input: ProxyInput): Promise<Proxy> {
    if (this.proxies.has(input.name)) throw apiErrors.proxyAlreadyExists();
    const proxy = this.create(input);
    if (input.enabled ?? true) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  /** For /populate: an existing proxy with the same listen and upstream is kept as it is. */
  async addOrReplace(input: ProxyInput): Promise<Proxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      if (!existing.differs(input.listen, input.upstream)) return existing;
      existing.stop();
    }
    const proxy = this.create(input);
    if (input.enabled ?? true) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  /**
   * Validates every entry before creating any, as Toxiproxy does: a bad body throws. A proxy that
   * fails to start ends the run with the ones made so far and the error.
   */
  async populate(raw: unknown): Promise<{ proxies: Proxy[]; error?: Error }> {
    if (!Array.isArray(raw)) {
      const kind = raw === null ? 'null' : typeof raw === 'object' ? 'object' : typeof raw;
      if (raw !== null) throw apiErrors.badRequestBody(`json: cannot unmarshal ${kind} into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`);
      return { proxies: [] };
    }
    const inputs = raw.map(decodeProxy);
    inputs.forEach((p, i) => {
      if (p.name.length < 1) throw apiErrors.missingField(`name at proxy ${i + 1}`);
      if (p.upstream.length < 1) throw apiErrors.missingField(`upstream at proxy ${i + 1}`);
    });
    const proxies: Proxy[] = [];
    for (const input of inputs) {
      try {
        proxies.push(await this.addOrReplace(input));
      } catch (e) {
        return { proxies, error: e as Error };
      }
    }
    return { proxies };
  }

  remove(name: string): void {
    this.get(name).stop();
    this.proxies.delete(name);
  }

  /** POST /reset: every proxy enabled, every toxic removed. */
  async reset(): Promise<void> {
    for (const p of this.proxies.values()) {
      try {
        await p.start();
      } catch (e) {
        if (!(e instanceof ProxyAlreadyStarted)) throw e;
      }
      p.toxics.reset();
    }
  }

  clear(): void {
    for (const p of this.proxies.values()) p.stop();
    this.proxies.clear();
  }
}
