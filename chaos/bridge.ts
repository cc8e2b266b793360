/**
 * Joins one accepted, paused client socket to its upstream: connect, then build the Connection
 * and start reading the client into the shared buffer (./shared-read.ts). Used by the proxy's own
 * accept path and by a data worker (./data-worker.ts) that was handed the client.
 *
 * A client handed over IPC has already started reading by the time its message arrives (Node
 * starts reading a socket made from a received handle), so bytes may sit in its Readable buffer:
 * they are forwarded first, in order, before the shared read takes over.
 */
import net from 'node:net';
import { Connection, type Direction, type ToxicEntry } from './link.ts';
import { adoptSharedRead, sharedOnread } from './shared-read.ts';
import type { Random } from '../src/base/random.ts';
import { splitHostPort } from './host-port.ts';

export interface BridgeOptions {
  upstream: string;
  /** The toxics at the moment the upstream connects (not when the client arrived). */
  chains: () => Record<Direction, ToxicEntry[]>;
  random: Random;
  /** Sockets not yet joined, so a stop can close them. */
  pending: Set<net.Socket>;
  /** False when the proxy stopped while the upstream was connecting. */
  stillWanted: () => boolean;
  opened: (c: Connection) => void;
  closed: (c: Connection) => void;
}

export function bridge(client: net.Socket, o: BridgeOptions): void {
  client.on('error', () => {});
  const target = splitHostPort(o.upstream, 'localhost');
  if (!target) {
    client.destroy();
    return;
  }
  o.pending.add(client);
  let conn: Connection | undefined;
  const upstream = net.connect({ host: target.host, port: target.port, noDelay: true, onread: sharedOnread((bytes) => conn?.down.receive(bytes)) });
  upstream.on('error', () => {});
  o.pending.add(upstream);
  const abandon = () => {
    o.pending.delete(client);
    o.pending.delete(upstream);
    client.destroy();
    upstream.destroy();
  };
  client.once('close', abandon);
  upstream.once('close', abandon);
  upstream.once('connect', () => {
    client.off('close', abandon);
    upstream.off('close', abandon);
    o.pending.delete(client);
    o.pending.delete(upstream);
    if (!o.stillWanted() || client.destroyed) {
      abandon();
      return;
    }
    conn = new Connection(client, upstream, o.chains(), o.random, o.closed);
    o.opened(conn);
    let early: Buffer | null;
    while ((early = client.read() as Buffer | null) !== null) conn.up.receive(early);
    adoptSharedRead(client, conn.up.receive);
  });
}
