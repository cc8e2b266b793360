/**
 * One data worker (./data-workers.ts): joins the clients it is handed to their upstreams and
 * keeps, per proxy, a mirror of the proxy's toxic chains, applied to its open connections as the
 * in-process ToxicCollection applies them. It exits when the server's IPC channel closes.
 */
import type net from 'node:net';
import { bridge } from './bridge.ts';
import type { Connection, Direction, ToxicEntry } from './link.ts';
import type { FromWorker, ToWorker, WireToxic } from './data-workers.ts';
import { toxicDefinition } from './toxics/index.ts';
import { seededRandom } from '../src/base/random.ts';

interface Mirror {
  chains: Record<Direction, ToxicEntry[]>;
  connections: Set<Connection>;
  pending: Set<net.Socket>;
  /** Bumped by a stop: a client still connecting from before it is not joined. */
  epoch: number;
}

const mirrors = new Map<string, Mirror>();
const mirror = (proxy: string): Mirror => {
  let m = mirrors.get(proxy);
  if (!m) mirrors.set(proxy, (m = { chains: { upstream: [], downstream: [] }, connections: new Set(), pending: new Set(), epoch: 0 }));
  return m;
};
const send = (m: FromWorker) => process.send?.(m);

function resolve(t: WireToxic): ToxicEntry {
  return { ...t, definition: toxicDefinition(t.type)! };
}

function onMessage(msg: ToWorker, handle: unknown): void {
  switch (msg.t) {
    case 'conn': {
      const m = mirror(msg.proxy);
      const epoch = m.epoch;
      const client = handle as net.Socket;
      client.pause();
      // Counted by the server from the hand-off on, joined or not, until the client is gone.
      client.once('close', () => send({ t: 'closed', proxy: msg.proxy }));
      bridge(client, {
        upstream: msg.upstream,
        chains: () => ({ upstream: [...m.chains.upstream], downstream: [...m.chains.downstream] }),
        random: seededRandom(msg.seed),
        pending: m.pending,
        stillWanted: () => m.epoch === epoch,
        opened: (c) => m.connections.add(c),
        closed: (c) => m.connections.delete(c),
      });
      return;
    }
    case 'add': {
      const m = mirror(msg.proxy);
      const entry = resolve(msg.toxic);
      m.chains[entry.direction].push(entry);
      for (const c of m.connections) c.link(entry.direction).addToxic(entry);
      return;
    }
    case 'update': {
      const m = mirror(msg.proxy);
      const entry = resolve(msg.toxic);
      const chain = m.chains[entry.direction];
      chain[chain.findIndex((t) => t.name === entry.name)] = entry;
      for (const c of m.connections) c.link(entry.direction).updateToxic(entry);
      return;
    }
    case 'remove': {
      const m = mirror(msg.proxy);
      const chain = m.chains[msg.direction];
      const i = chain.findIndex((t) => t.name === msg.name);
      if (i >= 0) chain.splice(i, 1);
      for (const c of m.connections) c.link(msg.direction).removeToxic(msg.name);
      return;
    }
    case 'stop': {
      const m = mirror(msg.proxy);
      m.epoch++;
      for (const s of m.pending) s.destroy();
      m.pending.clear();
      for (const c of m.connections) c.destroy();
      m.connections.clear();
      return;
    }
    case 'sync':
      send({ t: 'synced', id: msg.id });
      return;
  }
}

process.on('message', onMessage);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
send({ t: 'ready' });
