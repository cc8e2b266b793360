/**
 * Each toxic's effect on real traffic to a real redis-server, through the embedded proxy, with
 * toxics managed only through toxiproxy-node-client. Timings are checked as lower bounds, which a
 * busy machine cannot break; where a test must show that a delay is NOT applied, the delay is ten
 * minutes and the answer is allowed 20 s. Exact timings are checked on a fake clock
 * (toxic-timing.test.ts); real-run figures are in `npm run bench toxics`.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portOf, rawConnect, redisProxy, resp, sleep, startRig, timed, type Rig } from './helpers.ts';

let rig: Rig;
let direct: Redis;
beforeAll(async () => {
  rig = await startRig();
  direct = new Redis(rig.redis.url);
  await direct.set('v200', 'x'.repeat(200));
  await direct.set('v1000', 'y'.repeat(1000));
  await direct.set('v150k', 'z'.repeat(150_000));
});
afterAll(async () => {
  direct?.disconnect();
  await rig?.stop();
});

const PONG = 7; // "+PONG\r\n"
/** Longer than any test may run: a reply that comes at all was not held for it. */
const TEN_MINUTES_MS = 600_000;
/** How long a reply that is not delayed may take on a loaded machine: far below TEN_MINUTES_MS. */
const UNDELAYED_MS = 20_000;

describe('toxics on real Redis traffic', () => {
  it('latency 200 ms adds at least 200 ms to a PING, also on a connection opened before the toxic', async () => {
    const proxy = await redisProxy(rig);
    const c = await rawConnect(portOf(proxy.listen));
    await timed(c, resp('PING'), PONG);
    const toxic = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    // Each of three, not just the fastest: the toxic delays every reply. (Its clock is Date.now's
    // whole milliseconds, so a delay may measure up to 1 ms short.)
    for (let i = 0; i < 3; i++) expect(await timed(c, resp('PING'), PONG)).toBeGreaterThanOrEqual(199);
    await toxic.remove();
    await timed(c, resp('PING'), PONG, UNDELAYED_MS); // still connected; not delayed: the next test
    c.socket.destroy();
  });

  it('removing a toxic under traffic answers without waiting out the delay, forwards what it held, and delays nothing after', async () => {
    const proxy = await redisProxy(rig);
    const c = await rawConnect(portOf(proxy.listen));
    const toxic = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: TEN_MINUTES_MS, jitter: 0 } });
    c.socket.write(resp('PING'));
    await sleep(50);
    expect(c.received().length).toBe(0); // held
    await toxic.remove(); // a removal that waited for the held PING would outlast the test
    await c.waitBytes(PONG, UNDELAYED_MS);
    expect(c.received().toString()).toBe('+PONG\r\n');
    // The same connection, after the removal: not delayed any more.
    await timed(c, resp('PING'), PONG, UNDELAYED_MS);
    expect(c.received().toString()).toBe('+PONG\r\n+PONG\r\n');
    c.socket.destroy();
  });

  it('toxicity 0 leaves the connection alone', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'never', type: 'latency', stream: 'downstream', toxicity: 0, attributes: { latency: TEN_MINUTES_MS, jitter: 0 } });
    const c = await rawConnect(portOf(proxy.listen));
    await timed(c, resp('PING'), PONG, UNDELAYED_MS);
    expect(c.received().toString()).toBe('+PONG\r\n');
    c.socket.destroy();
  });

  it('bandwidth caps throughput: a 150 KB reply at 100 KB/s (1.5 s due) takes more than 1.2 s, and arrives whole', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'bw', type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 100 } });
    const c = await rawConnect(portOf(proxy.listen));
    const replyBytes = 150_000 + '$150000\r\n\r\n'.length;
    const ms = await timed(c, resp('GET', 'v150k'), replyBytes, UNDELAYED_MS);
    const expectedMs = replyBytes / 100; // 100 KB/s = 100 bytes/ms
    // The cap's lower side only: that it is no slower than it should be is checked on a fake
    // clock, and measured by the bench.
    expect(ms).toBeGreaterThan(expectedMs * 0.8);
    expect(c.received().toString()).toBe(`$150000\r\n${'z'.repeat(150_000)}\r\n`);
    c.socket.destroy();
  });

  it('timeout stops data and closes the connection after the timeout', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'to', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 500 } });
    const start = performance.now();
    const c = await rawConnect(portOf(proxy.listen));
    c.socket.write(resp('PING'));
    const closed = await c.closed;
    expect(c.received().length).toBe(0);
    expect(closed.atMs - start).toBeGreaterThanOrEqual(450);
    expect(closed.atMs - start).toBeLessThan(3_000);
  });

  it('reset_peer resets the connection', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'rst', type: 'reset_peer', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    const c = await rawConnect(portOf(proxy.listen));
    c.socket.write(resp('PING'));
    const closed = await c.closed;
    expect(closed.error?.code).toBe('ECONNRESET');
    expect(c.received().length).toBe(0);
  });

  it('slicer splits a reply into small pieces', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'sl', type: 'slicer', stream: 'downstream', toxicity: 1, attributes: { average_size: 10, size_variation: 0, delay: 5_000 } });
    const c = await rawConnect(portOf(proxy.listen));
    const replyBytes = 200 + '$200\r\n\r\n'.length;
    await timed(c, resp('GET', 'v200'), replyBytes);
    expect(c.received().toString()).toBe(`$200\r\n${'x'.repeat(200)}\r\n`);
    expect(c.chunks.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...c.chunks.map((x) => x.data.length))).toBeLessThanOrEqual(20);
    c.socket.destroy();
  });

  it('limit_data closes the connection after N bytes', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'lim', type: 'limit_data', stream: 'downstream', toxicity: 1, attributes: { bytes: 100 } });
    const c = await rawConnect(portOf(proxy.listen));
    c.socket.write(resp('GET', 'v1000'));
    await c.closed;
    expect(c.received().length).toBe(100);
  });

  it('slow_close holds the close back', async () => {
    const proxy = await redisProxy(rig);
    await proxy.addToxic({ name: 'sc', type: 'slow_close', stream: 'downstream', toxicity: 1, attributes: { delay: 400 } });
    const c = await rawConnect(portOf(proxy.listen));
    const start = performance.now();
    c.socket.write(resp('QUIT'));
    const closed = await c.closed;
    expect(c.received().toString()).toBe('+OK\r\n');
    expect(closed.atMs - start).toBeGreaterThanOrEqual(350);
  });

  it('ioredis keeps working through add/remove cycles under load (no lost or reordered replies)', async () => {
    const proxy = await redisProxy(rig);
    const client = new Redis({ host: '127.0.0.1', port: portOf(proxy.listen), maxRetriesPerRequest: 0 });
    try {
      let stop = false;
      const worker = (async () => {
        let i = 0;
        const deadline = Date.now() + 5_000;
        while (!stop && Date.now() < deadline) {
          const key = `k${i % 50}`;
          await client.set(key, String(i));
          expect(await client.get(key)).toBe(String(i));
          i++;
        }
        return i;
      })();
      for (let round = 0; round < 5; round++) {
        const t = await proxy.addToxic({ name: 'j', type: 'latency', stream: round % 2 ? 'upstream' : 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 4 } });
        await sleep(60);
        const s = await proxy.addToxic({ name: 's', type: 'slicer', stream: 'downstream', toxicity: 1, attributes: { average_size: 3, size_variation: 1, delay: 0 } });
        await sleep(60);
        await t.remove();
        await s.remove();
        await sleep(40);
      }
      stop = true;
      expect(await worker).toBeGreaterThan(20);
    } finally {
      client.disconnect();
    }
  });
});
