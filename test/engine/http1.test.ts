/**
 * The engine's own HTTP/1.1 client, against raw scripted servers: the framing cases a general
 * client gets right by construction and a small parser must be shown to (split chunks, bodies to
 * close, keep-alive reuse and its end, 1xx, caps, deadlines).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool, type H1Request } from '../../src/engine/http1.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that answers each request with `respond(socket, n)`; counts connections. */
async function scripted(respond: (socket: net.Socket, requestNo: number) => void): Promise<{ origin: string; connections: () => number }> {
  let connections = 0;
  let requests = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        respond(socket, requests++);
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, connections: () => connections };
}

function send(pool: H1Pool, over: Partial<H1Request> = {}, capBytes = Infinity): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    pool.send(
      { method: 'GET', path: '/', headers: {}, body: undefined, timeoutMs: 2_000, maxBodyBytes: 1 << 20, ...over },
      {
        onHead: (s, h) => {
          status = s;
          headers = h;
        },
        onData: (c) => {
          chunks.push(c);
          // The cap is the caller's (the transport counts bytes); a throw here must fail the exchange.
          if (chunks.reduce((n, b) => n + b.length, 0) > capBytes) throw new Error('body over the cap');
        },
        onComplete: () => resolve({ status, headers, body: Buffer.concat(chunks).toString() }),
        onError: reject,
      },
    );
  });
}

describe('engine HTTP/1.1 client', () => {
  it('reads a Content-Length body and reuses the connection for the next request', async () => {
    const srv = await scripted((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nhello'));
    const pool = new H1Pool(srv.origin);
    const a = await send(pool);
    const b = await send(pool);
    expect([a.status, a.body, b.body]).toEqual([200, 'hello', 'hello']);
    expect(a.headers['x-multi']).toEqual(['a', 'b']);
    expect(srv.connections()).toBe(1);
    pool.destroy?.();
  });

  it('reassembles a chunked body that arrives one byte per packet', async () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n';
    const srv = await scripted((s) => {
      let i = 0;
      const tick = () => {
        if (i < wire.length) {
          s.write(wire[i++]!);
          setTimeout(tick, 1);
        }
      };
      tick();
    });
    const pool = new H1Pool(srv.origin);
    expect((await send(pool)).body).toBe('Wikipedia');
    pool.destroy?.();
  });

  it('keeps each connection\'s partial head and body intact while other connections read in between', async () => {
    // Every connection reads into one shared buffer: what a parser keeps past a read must be a copy.
    const answer = (n: number) => {
      const body = `body-${n}-`.repeat(200);
      return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Which: ${n}\r\n\r\n${body}`;
    };
    let served = 0;
    const srv = await scripted((s) => {
      const wire = answer(served++);
      // Head split mid-line, body in uneven pieces, each piece a separate packet, so the connections'
      // reads interleave.
      const cuts = [17, 40, 300, 900, 1500];
      let at = 0;
      const tick = () => {
        const next = cuts.find((c) => c > at) ?? wire.length;
        s.write(wire.slice(at, next));
        at = next;
        if (at < wire.length) setTimeout(tick, 2);
      };
      tick();
    });
    const pools = Array.from({ length: 6 }, () => new H1Pool(srv.origin));
    const answers = await Promise.all(pools.map((p) => send(p)));
    const bodies = new Map(answers.map((a) => [Number(a.headers['x-which']), a.body]));
    expect(bodies.size).toBe(6);
    for (const [n, body] of bodies) expect(body).toBe(`body-${n}-`.repeat(200));
    for (const p of pools) p.destroy?.();
  });

  it('reads a body delimited by close (HTTP/1.0) and opens a new connection after it', async () => {
    const srv = await scripted((s) => s.end('HTTP/1.0 200 OK\r\n\r\nuntil close'));
    const pool = new H1Pool(srv.origin);
    expect((await send(pool)).body).toBe('until close');
    expect((await send(pool)).body).toBe('until close');
    expect(srv.connections()).toBe(2);
    pool.destroy?.();
  });

  it('honours Connection: close, skips 1xx answers', async () => {
    const srv = await scripted((s, n) => (n === 0 ? s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok') : s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')));
    const pool = new H1Pool(srv.origin);
    const first = await send(pool);
    expect([first.status, first.body]).toEqual([201, 'ok']);
    expect((await send(pool)).status).toBe(200);
    expect(srv.connections()).toBe(2);
    pool.destroy?.();
  });

  it('fails the exchange when the handler refuses the body, and does not reuse that connection', async () => {
    const srv = await scripted((s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'x'.repeat(2048)}\r\n800\r\n${'x'.repeat(2048)}\r\n0\r\n\r\n`));
    const pool = new H1Pool(srv.origin);
    await expect(send(pool, {}, 3000)).rejects.toThrow('body over the cap');
    expect((await send(pool)).body).toHaveLength(4096);
    expect(srv.connections()).toBe(2);
    pool.destroy?.();
  });

  it('ends a trickling body at the deadline', async () => {
    const srv = await scripted((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      const t = setInterval(() => (s.writable ? s.write('x') : clearInterval(t)), 50);
      s.on('close', () => clearInterval(t));
    });
    const started = Date.now();
    await expect(send(new H1Pool(srv.origin), { timeoutMs: 300 })).rejects.toMatchObject({ code: expect.stringMatching(/TIMEOUT/) });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection and a reset with the socket codes', async () => {
    const dead = await scripted(() => {});
    const origin = dead.origin;
    await new Promise((r) => servers.pop()!.close(r));
    await expect(send(new H1Pool(origin))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const resetting = await scripted((s) => s.resetAndDestroy());
    await expect(send(new H1Pool(resetting.origin))).rejects.toBeDefined();
  });
});
