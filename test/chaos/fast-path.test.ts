/**
 * The proxy's fast path (no toxics) reads every socket into one shared buffer: these check that no
 * byte is lost, reordered or mixed up between connections when the reader is slow (writes queue
 * and go out later), and that a toxic added mid-stream still takes over.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { adoptSharedRead } from '../../chaos/shared-read.ts';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';
import { seededRandom } from '../../src/base/random.ts';
import { portOf } from './helpers.ts';

let echo: net.Server;
let server: ToxiproxyServer;
let client: Toxiproxy;
beforeAll(async () => {
  // An upstream that echoes what it gets, so both directions carry the same bytes.
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  server = await startToxiproxyServer({ seed: 7 });
  client = new Toxiproxy(server.url);
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => echo?.close(r));
});

function payload(seed: number, bytes: number): Buffer {
  const random = seededRandom(seed);
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(random() * 256);
  return b;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Send `data` through the port in uneven pieces while reading back with pauses; resolves with what came back. */
/** `marks`: at a fraction of the bytes back, reading pauses while `run` runs. */
function roundTrip(port: number, data: Buffer, opts: { readPauseMs: number; marks?: Array<{ at: number; run: () => Promise<void> }> }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let have = 0;
    const marks = [...(opts.marks ?? [])];
    const timer = setTimeout(() => reject(new Error(`only ${have} of ${data.length} bytes came back within 20 s`)), 20_000);
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      got.push(c);
      have += c.length;
      if (marks.length && have >= data.length * marks[0]!.at) {
        const mark = marks.shift()!;
        s.pause();
        void mark.run().then(() => s.resume(), reject);
      } else if (opts.readPauseMs > 0 && got.length % 8 === 0) {
        // A slow reader: the proxy's writes towards it queue, and the echo's towards the proxy.
        s.pause();
        setTimeout(() => s.resume(), opts.readPauseMs);
      }
      if (have >= data.length) {
        clearTimeout(timer);
        s.destroy();
        resolve(Buffer.concat(got));
      }
    });
    s.once('connect', () => {
      let at = 0;
      let piece = 1;
      const writeMore = () => {
        while (at < data.length) {
          piece = (piece * 7 + 13) % 65_521; // uneven sizes, 1 byte .. 64 KiB
          const end = Math.min(data.length, at + piece);
          const ok = s.write(data.subarray(at, end));
          at = end;
          if (!ok) return void s.once('drain', writeMore);
        }
      };
      writeMore();
    });
  });
}

describe('fast path', () => {
  it('adopts the shared read buffer for accepted sockets on this Node (else it would fall back to data events)', async () => {
    const srv = net.createServer({ pauseOnConnect: true }, (s) => {
      const chunks: Buffer[] = [];
      expect(adoptSharedRead(s, (b) => chunks.push(b))).toBe(true);
      s.on('end', () => {
        s.end(Buffer.concat(chunks).toString().toUpperCase());
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port }, () => c.end('hello shared buffer'));
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
    srv.close();
    expect(answer).toBe('HELLO SHARED BUFFER');
  });

  it('four connections with slow readers get back exactly what they sent, none mixed with another', async () => {
    const proxy = await client.createProxy({ name: 'echo-slow', listen: '127.0.0.1:0', upstream: `127.0.0.1:${(echo.address() as net.AddressInfo).port}` });
    const port = portOf(proxy.listen);
    const sent = [1, 2, 3, 4].map((seed) => payload(seed, 1_500_000 + seed * 1000));
    const back = await Promise.all(sent.map((d) => roundTrip(port, d, { readPauseMs: 3 })));
    for (let i = 0; i < sent.length; i++) {
      expect(back[i]!.length).toBe(sent[i]!.length);
      expect(sha(back[i]!)).toBe(sha(sent[i]!));
    }
    await proxy.remove();
  });

  it('a client that stops reading behind an upstream sending small writes gets every byte in order', async () => {
    // Writes the kernel does not take at once keep pointing at their bytes: were those a view of
    // the shared read buffer, the next read would overwrite them before they are sent.
    const data = payload(11, 6_000_000);
    const chatty = net.createServer((s) => {
      s.on('error', () => {});
      let at = 0;
      const more = () => {
        for (let i = 0; i < 16 && at < data.length; i++, at += 700) s.write(data.subarray(at, Math.min(data.length, at + 700)));
        if (at < data.length) setImmediate(more);
      };
      more();
    });
    await new Promise<void>((r) => chatty.listen(0, '127.0.0.1', r));
    const proxy = await client.createProxy({ name: 'chatty', listen: '127.0.0.1:0', upstream: `127.0.0.1:${(chatty.address() as net.AddressInfo).port}` });
    const back = await new Promise<Buffer>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: portOf(proxy.listen) });
      const got: Buffer[] = [];
      let have = 0;
      const timer = setTimeout(() => reject(new Error(`only ${have} of ${data.length} bytes within 20 s`)), 20_000);
      c.on('error', reject);
      c.pause();
      setTimeout(() => c.resume(), 400);
      c.on('data', (d: Buffer) => {
        got.push(d);
        have += d.length;
        if (have >= data.length) {
          clearTimeout(timer);
          c.destroy();
          resolve(Buffer.concat(got));
        }
      });
    });
    await proxy.remove();
    await new Promise((r) => chatty.close(r));
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
  });

  it('a toxic added mid-stream takes over the open connection and, removed, hands back without losing a byte', async () => {
    const proxy = await client.createProxy({ name: 'echo-switch', listen: '127.0.0.1:0', upstream: `127.0.0.1:${(echo.address() as net.AddressInfo).port}` });
    const data = payload(9, 2_000_000);
    const toxicsAt: number[] = [];
    const listed = () => toxicsAt.push(server.proxies.get('echo-switch').toxics.list().length);
    let toxic: Awaited<ReturnType<typeof proxy.addToxic>> | undefined;
    const back = await roundTrip(portOf(proxy.listen), data, {
      readPauseMs: 0,
      marks: [
        {
          at: 0.3,
          run: async () => {
            // Upstream too, so bytes already read from the client go through the chain.
            toxic = await proxy.addToxic({ name: 'slices', type: 'slicer', stream: 'downstream', toxicity: 1, attributes: { average_size: 100, size_variation: 50, delay: 0 } });
            await proxy.addToxic({ name: 'late', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 5, jitter: 2 } });
            listed();
          },
        },
        {
          at: 0.6,
          run: async () => {
            await toxic!.remove();
            await client.get('echo-switch').then((p) => p.getToxic('late')).then((t) => t.remove());
            listed();
          },
        },
      ],
    });
    expect(toxicsAt).toEqual([2, 0]);
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
    await proxy.remove();
  });
});
