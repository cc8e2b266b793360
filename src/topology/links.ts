/**
 * Network links through the fault proxy: each link is one Toxiproxy proxy (listen → upstream),
 * created through toxiproxy-node-client so the same code drives the embedded server and a real
 * Toxiproxy. Faults are later injected on these names.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { freePort } from './ports.ts';
import { EnvironmentError } from '../base/errors.ts';

export interface Link {
  readonly name: string;
  /** Where clients connect (the proxy's listen address). */
  readonly host: string;
  readonly port: number;
  readonly upstream: string;
}

function parseHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(address.slice(i + 1)) };
}

/**
 * Creates proxy `name` from an ephemeral listen port to `upstream`. A proxy of that name left on a
 * shared Toxiproxy by an earlier run is replaced.
 */
export async function createLink(toxiproxyUrl: string, name: string, upstream: string, listenHost = '127.0.0.1'): Promise<Link> {
  const client = new Toxiproxy(toxiproxyUrl);
  const existing = await client.get(name).catch(() => undefined);
  if (existing) await existing.remove();
  // Toxiproxy binds port 0 and reports the real port back; fall back to a probed free port if not.
  let proxy = await client.createProxy({ name, listen: `${listenHost}:0`, upstream }).catch((e: Error) => {
    throw new EnvironmentError(`Could not create proxy "${name}" → ${upstream} on the fault proxy at ${toxiproxyUrl}: ${e.message}`);
  });
  let { port } = parseHostPort(proxy.listen);
  for (let attempt = 0; port === 0 && attempt < 5; attempt++) {
    await proxy.remove();
    const candidate = await freePort(listenHost);
    proxy = await client.createProxy({ name, listen: `${listenHost}:${candidate}`, upstream }).catch(() => proxy);
    port = parseHostPort(proxy.listen).port;
  }
  if (port === 0) throw new EnvironmentError(`The fault proxy at ${toxiproxyUrl} did not report a listen port for "${name}".`);
  return { name, host: parseHostPort(proxy.listen).host, port, upstream };
}

export async function removeLinks(toxiproxyUrl: string, names: string[]): Promise<void> {
  const client = new Toxiproxy(toxiproxyUrl);
  await Promise.allSettled(names.map(async (n) => (await client.get(n)).remove()));
}
