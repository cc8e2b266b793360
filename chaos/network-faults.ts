/**
 * Network faults on a proxy, only through Toxiproxy's HTTP API (toxiproxy-node-client), so they
 * work the same against the embedded server and a real Toxiproxy at TOXIPROXY_URL.
 */
import net from 'node:net';
import { Toxiproxy, type ToxicType } from 'toxiproxy-node-client';
import type { AppliedFault } from './process.ts';

export interface ToxicFault {
  type: string;
  stream?: 'upstream' | 'downstream';
  toxicity?: number;
  attributes: Record<string, number | undefined>;
}

/** Toxiproxy zero-fills attributes; we send them complete so a real Toxiproxy sees the same. */
const ATTRIBUTE_DEFAULTS: Record<string, Record<string, number>> = {
  latency: { latency: 0, jitter: 0 },
  bandwidth: { rate: 0 },
  slow_close: { delay: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  slicer: { average_size: 0, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
};

function tcpRefused(listen: string, timeoutMs = 1_000): Promise<boolean> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((resolve) => {
    const s = net.connect({ host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port: Number(listen.slice(i + 1)) });
    const done = (refused: boolean) => {
      s.destroy();
      resolve(refused);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(false));
    s.once('error', () => done(true));
  });
}

/** Adds the toxic named `name`; verified when the API lists it with the attributes sent. */
export async function addToxic(toxiproxyUrl: string, proxyName: string, name: string, fault: ToxicFault): Promise<AppliedFault> {
  const client = new Toxiproxy(toxiproxyUrl);
  const proxy = await client.get(proxyName);
  const attributes = { ...ATTRIBUTE_DEFAULTS[fault.type], ...Object.fromEntries(Object.entries(fault.attributes).filter(([, v]) => v !== undefined)) };
  const toxic = await proxy.addToxic({ name, type: fault.type as ToxicType, stream: fault.stream ?? 'downstream', toxicity: fault.toxicity ?? 1, attributes });
  const listed = (await client.getApi().get(`${proxy.getPath()}/toxics`)).data as Array<{ name: string; attributes: Record<string, number> }>;
  const seen = listed.find((t) => t.name === name);
  const verified = !!seen && Object.entries(attributes).every(([k, v]) => seen.attributes[k] === v);
  return {
    verified,
    detail: seen ? `toxic ${name} listed on ${proxyName}: ${JSON.stringify(seen.attributes)}` : `toxic ${name} not listed on ${proxyName}`,
    undo: async () => {
      try {
        await toxic.remove();
      } catch (e) {
        // Already gone (a /reset, or the proxy was re-created) is what the undo wanted.
        if (!String((e as Error).message).includes('404')) throw e;
      }
    },
  };
}

/** The proxy disabled: it stops listening and drops every connection. Verified by a refused connect. */
export async function proxyDown(toxiproxyUrl: string, proxyName: string): Promise<AppliedFault> {
  const client = new Toxiproxy(toxiproxyUrl);
  const proxy = await client.get(proxyName);
  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  const refused = !down.enabled && (await tcpRefused(down.listen));
  return {
    verified: refused,
    detail: refused ? `${proxyName} disabled, ${down.listen} refuses connections` : `${proxyName} still accepts connections`,
    undo: async () => {
      const now = await client.get(proxyName);
      await now.update({ enabled: true, listen: now.listen, upstream: now.upstream });
    },
  };
}
