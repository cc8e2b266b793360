/**
 * How exactly the timed toxics keep to their attributes on real Redis traffic on this machine: the
 * wall-clock figures the tests no longer assert (a busy box moves them; the tests check lower
 * bounds on real traffic and exact timings on a fake clock, test/chaos/toxic-timing.test.ts).
 *
 *   npm run bench toxics
 *   STATEPROOF_BENCH_ROUNDS=5
 *
 *   latency    PING through the embedded proxy without a toxic, with latency 200 ms, after removal
 *   bandwidth  a 150 KB reply at 100 KB/s: measured / due (1.5 s)
 *   removal    a PING held by a 5 s latency toxic: how long the removal call takes, and until the
 *              held reply arrives
 *
 * Figures are medians over the rounds, with the worst beside them.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startToxiproxyServer } from '../chaos/server.ts';
import { startRedisServer } from '../src/topology/redis-server.ts';

const ROUNDS = Number(process.env.STATEPROOF_BENCH_ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const worst = (xs: number[]) => Math.max(...xs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const PONG = 7;

/** A raw client that resolves `until(n)` once n bytes in total have arrived. */
async function connect(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  let received = 0;
  let waiter: { bytes: number; resolve: () => void } | undefined;
  socket.on('data', (d) => {
    received += d.length;
    if (waiter && received >= waiter.bytes) {
      waiter.resolve();
      waiter = undefined;
    }
  });
  const until = (bytes: number) => (received >= bytes ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { bytes, resolve })));
  return {
    socket,
    /** ms from writing `command` until `replyBytes` more bytes have come. */
    async timed(command: string, replyBytes: number): Promise<number> {
      const target = received + replyBytes;
      const t0 = performance.now();
      socket.write(command);
      await until(target);
      return performance.now() - t0;
    },
    until: (more: number) => until(received + more),
  };
}

const redis = await startRedisServer();
const server = await startToxiproxyServer({ seed: 1 });
const direct = new Redis(redis.url);
try {
  await direct.set('v150k', 'z'.repeat(150_000));
  const client = new Toxiproxy(server.url);
  const proxy = await client.createProxy({ name: 'bench-toxics', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
  const port = Number(proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1));
  const figures = { plain: [] as number[], delayed: [] as number[], after: [] as number[], bandwidth: [] as number[], removeCall: [] as number[], held: [] as number[] };

  for (let round = 1; round <= ROUNDS; round++) {
    const c = await connect(port);
    figures.plain.push(await c.timed(resp('PING'), PONG));
    const lat = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    figures.delayed.push(await c.timed(resp('PING'), PONG));
    await lat.remove();
    figures.after.push(await c.timed(resp('PING'), PONG));

    const bw = await proxy.addToxic({ name: 'bw', type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 100 } });
    const replyBytes = 150_000 + '$150000\r\n\r\n'.length;
    const fresh = await connect(port); // a fresh connection, so the toxic's pacing starts with the reply
    figures.bandwidth.push((await fresh.timed(resp('GET', 'v150k'), replyBytes)) / (replyBytes / 100));
    fresh.socket.destroy();
    await bw.remove();

    const hold = await proxy.addToxic({ name: 'hold', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 5_000, jitter: 0 } });
    const arrived = c.until(PONG);
    c.socket.write(resp('PING'));
    await sleep(50);
    const t0 = performance.now();
    await hold.remove();
    figures.removeCall.push(performance.now() - t0);
    await arrived;
    figures.held.push(performance.now() - t0);
    c.socket.destroy();
    console.log(
      `round ${round}: PING ${figures.plain.at(-1)!.toFixed(1)} ms, with latency 200 ${figures.delayed.at(-1)!.toFixed(1)} ms, after removal ${figures.after.at(-1)!.toFixed(1)} ms; ` +
        `bandwidth measured/due ${figures.bandwidth.at(-1)!.toFixed(3)}; removal call ${figures.removeCall.at(-1)!.toFixed(1)} ms, held reply after ${figures.held.at(-1)!.toFixed(1)} ms`,
    );
  }
  const f = (xs: number[], d = 1) => `${median(xs).toFixed(d)} (worst ${worst(xs).toFixed(d)})`;
  console.log(`median of ${ROUNDS}: PING ${f(figures.plain)} ms; latency 200 ms adds ${(median(figures.delayed) - median(figures.plain)).toFixed(1)} ms; after removal ${f(figures.after)} ms`);
  console.log(`median of ${ROUNDS}: bandwidth 100 KB/s measured/due ${f(figures.bandwidth, 3)}; removal call ${f(figures.removeCall)} ms, held reply ${f(figures.held)} ms after it`);
  await proxy.remove();
} finally {
  direct.disconnect();
  await server.close();
  await redis.stop();
}
