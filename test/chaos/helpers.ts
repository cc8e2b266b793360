/** Shared test helpers: a real redis-server behind the embedded proxy, and raw RESP over TCP. */
import net from 'node:net';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';

export interface Rig {
  redis: RedisServer;
  server: ToxiproxyServer;
  client: Toxiproxy;
  stop(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const redis = await startRedisServer();
  // STATEPROOF_TEST_PROXY_WORKERS=2 runs every chaos test through the data workers (chaos/data-workers.ts).
  const server = await startToxiproxyServer({ seed: 1, dataWorkers: Number(process.env.STATEPROOF_TEST_PROXY_WORKERS ?? 0) });
  return {
    redis,
    server,
    client: new Toxiproxy(server.url),
    async stop() {
      await server.close();
      await redis.stop();
    },
  };
}

let counter = 0;
/** A fresh proxy to the rig's redis on an ephemeral port. */
export async function redisProxy(rig: Rig, name = `redis${++counter}`): Promise<Proxy> {
  return rig.client.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${rig.redis.port}` });
}

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

export function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** A raw TCP client that records everything it sees, with timestamps. */
export interface RawClient {
  socket: net.Socket;
  chunks: Array<{ atMs: number; data: Buffer }>;
  received(): Buffer;
  closed: Promise<{ atMs: number; error?: NodeJS.ErrnoException }>;
  /** Resolves when at least `bytes` bytes have arrived (or rejects after `timeoutMs`). */
  waitBytes(bytes: number, timeoutMs: number): Promise<number>;
}

export function rawConnect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const chunks: RawClient['chunks'] = [];
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (e) => (error = e));
    const closed = new Promise<{ atMs: number; error?: NodeJS.ErrnoException }>((r) => socket.once('close', () => r({ atMs: performance.now(), error })));
    socket.on('data', (data) => chunks.push({ atMs: performance.now(), data }));
    socket.once('connect', () =>
      resolve({
        socket,
        chunks,
        closed,
        received: () => Buffer.concat(chunks.map((c) => c.data)),
        waitBytes: (bytes, timeoutMs) =>
          new Promise((res, rej) => {
            const start = performance.now();
            const check = () => {
              const have = chunks.reduce((n, c) => n + c.data.length, 0);
              if (have >= bytes) return res(performance.now() - start);
              if (performance.now() - start > timeoutMs) return rej(new Error(`only ${have} of ${bytes} bytes within ${timeoutMs} ms`));
              setTimeout(check, 2);
            };
            check();
          }),
      }),
    );
    socket.once('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Time one command over an open raw client until `expect` bytes of reply have come. */
export async function timed(c: RawClient, command: string, replyBytes: number, timeoutMs = 10_000): Promise<number> {
  const before = c.received().length;
  const start = performance.now();
  c.socket.write(command);
  await c.waitBytes(before + replyBytes, timeoutMs);
  return performance.now() - start;
}
