/**
 * The proxies' data path in worker processes (chaos/data-workers.ts): bytes flow, toxics changed
 * on the API reach connections the workers hold before the API answers, a removed toxic forwards
 * what it held, disabling closes the workers' connections, and no worker outlives a kill -9 of
 * the server.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { startRedisServer, type RedisServer } from '../../src/topology/redis-server.ts';
import { portOf, rawConnect, resp, sleep } from './helpers.ts';

const PONG = '+PONG\r\n'.length;
let redis: RedisServer;
let server: ToxiproxyServer;
let client: Toxiproxy;
let n = 0;

beforeAll(async () => {
  redis = await startRedisServer();
  server = await startToxiproxyServer({ seed: 1, dataWorkers: 2 });
  client = new Toxiproxy(server.url);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

const proxy = (): Promise<Proxy> => client.createProxy({ name: `w${++n}`, listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });

describe('proxy data workers', () => {
  it('carries traffic on connections spread over both workers', async () => {
    const p = await proxy();
    const clients = await Promise.all([1, 2, 3, 4].map(() => rawConnect(portOf(p.listen))));
    for (const c of clients) c.socket.write(resp('PING'));
    for (const c of clients) await c.waitBytes(PONG, 5_000);
    expect(clients.map((c) => c.received().toString())).toEqual(Array(4).fill('+PONG\r\n'));
    expect(server.workerPids).toHaveLength(2);
    for (const c of clients) c.socket.destroy();
  });

  it('a toxic added on the API applies to an open connection from its next chunk', async () => {
    const p = await proxy();
    const c = await rawConnect(portOf(p.listen));
    c.socket.write(resp('PING'));
    await c.waitBytes(PONG, 5_000);
    await p.addToxic({ name: 'rst', type: 'reset_peer', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } } as never);
    c.socket.write(resp('PING'));
    const closed = await Promise.race([c.closed, sleep(5_000).then(() => ({ error: undefined }))]);
    expect(closed.error?.code).toBe('ECONNRESET');
    expect(c.received().length).toBe(PONG);
  });

  it('a removed toxic forwards what it held', async () => {
    const p = await proxy();
    const c = await rawConnect(portOf(p.listen));
    const toxic = await p.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 60_000, jitter: 0 } } as never);
    c.socket.write(resp('PING'));
    await sleep(200); // the reply is now held by the toxic in a worker
    expect(c.received().length).toBe(0);
    await toxic.remove();
    await c.waitBytes(PONG, 5_000);
    expect(c.received().toString()).toBe('+PONG\r\n');
    c.socket.destroy();
  });

  it('disabling the proxy closes the connections the workers hold', async () => {
    const p = await proxy();
    const c = await rawConnect(portOf(p.listen));
    c.socket.write(resp('PING'));
    await c.waitBytes(PONG, 5_000);
    await p.update({ enabled: false } as never);
    await Promise.race([c.closed, sleep(5_000)]);
    expect(c.socket.destroyed).toBe(true);
  });
});

describe('stateproof proxy --workers', () => {
  it('leaves no worker behind after a kill -9 of the server', async () => {
    const bin = path.resolve(import.meta.dirname, '../../bin/stateproof.mjs');
    const child = spawn(process.execPath, [bin, 'proxy', '--port', '0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no URL printed')), 30_000);
        child.stdout.on('data', (d: Buffer) => /listening on/.test(d.toString()) && (clearTimeout(timer), resolve()));
      });
      const workers = childrenRunning(child.pid!, 'data-worker.mjs');
      expect(workers).toHaveLength(2);
      child.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      let alive = workers.filter(isAlive);
      while (alive.length > 0 && Date.now() < deadline) {
        await sleep(50);
        alive = workers.filter(isAlive);
      }
      expect(alive).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

function childrenRunning(parent: number, script: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parent && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(script);
      } catch {
        return false;
      }
    });
}

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}
