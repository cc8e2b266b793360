/**
 * The engine's HTTP/1.1 response parser on its own, no socket: every response is fed whole, cut
 * in two at every byte boundary, and one byte at a time, and must read the same each way. Reads
 * land in a shared buffer whose bytes past the read are stale (full of terminators a careless
 * search would take), and are overwritten before the next read, as the connection's are.
 */
import { describe, expect, it } from 'vitest';
import { BODY, COMPLETE, H1ResponseParser, HEAD, NEED_MORE, type H1Headers, type H1ParserLimits } from '../../src/engine/http1-parser.ts';

interface Reading {
  /** HEAD, BODY and COMPLETE in order, runs of BODY collapsed (their cut depends on the reads). */
  events: string[];
  status: number;
  headers: H1Headers;
  body: string;
  keepAlive: boolean;
  /** Bytes fed after COMPLETE (out of step). */
  leftover: number;
  /** The thrown error's code, if any. */
  error?: string;
}

const STALE = Buffer.from('\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n');
const AT = 3; // reads start a little into the buffer, as a feed from an offset does

interface Options {
  isHead?: boolean;
  limits?: H1ParserLimits;
  /** The server ends the stream after the last read. */
  close?: boolean;
}

function read(pieces: Buffer[], o: Options = {}): Reading {
  const p = new H1ResponseParser(o.limits);
  p.start(o.isHead ?? false);
  const r: Reading = { events: [], status: 0, headers: {}, body: '', keepAlive: true, leftover: 0 };
  const body: Buffer[] = [];
  const note = (e: string) => {
    if (e !== 'body' || r.events.at(-1) !== 'body') r.events.push(e);
  };
  const longest = Math.max(0, ...pieces.map((b) => b.length));
  const shared = Buffer.alloc(AT + longest + 64);
  try {
    let complete = false;
    for (const piece of pieces) {
      for (let k = 0; k < shared.length; k += STALE.length) STALE.copy(shared, k);
      piece.copy(shared, AT);
      const end = AT + piece.length;
      if (complete) {
        p.feed(shared, AT, end); // must throw: no response is expected
        continue;
      }
      let at = AT;
      for (;;) {
        const event = p.feed(shared, at, end);
        expect(p.offset).toBeGreaterThanOrEqual(at);
        expect(p.offset).toBeLessThanOrEqual(end);
        at = p.offset;
        if (event === NEED_MORE) {
          expect(at).toBe(end);
          break;
        }
        if (event === HEAD) {
          note('head');
          r.status = p.statusCode;
          r.headers = p.headers;
        } else if (event === BODY) {
          expect(p.bodyStart).toBeGreaterThanOrEqual(AT);
          expect(p.bodyEnd).toBeLessThanOrEqual(end);
          note('body');
          body.push(Buffer.from(shared.subarray(p.bodyStart, p.bodyEnd)));
        } else if (event === COMPLETE) {
          note('complete');
          r.keepAlive = p.keepAlive;
          r.leftover = end - at;
          complete = true;
          break;
        }
      }
    }
    if (o.close && !complete) {
      if (p.end()) {
        note('complete');
        r.keepAlive = p.keepAlive;
      } else note('cut short');
    }
  } catch (e) {
    r.error = (e as { code?: string }).code ?? String(e);
  }
  r.body = Buffer.concat(body).toString('latin1');
  return r;
}

/** The wire whole, cut in two at every byte boundary, and one byte per read. */
function everyCut(wire: string | Buffer): Buffer[][] {
  const b = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const cuts: Buffer[][] = [[b]];
  for (let k = 1; k < b.length; k++) cuts.push([b.subarray(0, k), b.subarray(k)]);
  cuts.push(Array.from(b, (_, k) => b.subarray(k, k + 1)));
  return cuts;
}

/** Reads the wire every way; they must all agree. Returns the one reading. */
function readEveryWay(wire: string | Buffer, o: Options = {}): Reading {
  const [whole, ...rest] = everyCut(wire).map((pieces) => read(pieces, o));
  for (const r of rest) expect(r).toEqual(whole);
  return whole!;
}

const text = (s: string) => Buffer.from(s, 'latin1');

describe('HTTP/1.1 response parser', () => {
  it('reads a Content-Length body, with header names lower-cased, values trimmed, repeats as arrays', () => {
    const r = readEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Multi: a\r\nx-multi:  b \r\nX-Empty:\r\n\r\nhello');
    expect(r).toEqual({
      events: ['head', 'body', 'complete'],
      status: 200,
      headers: { 'content-length': '5', 'x-multi': ['a', 'b'], 'x-empty': '' },
      body: 'hello',
      keepAlive: true,
      leftover: 0,
    });
  });

  it('reads a chunked body with chunk extensions and trailers', () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=value\r\nWiki\r\n5 ; a="b;c"\r\npedia\r\nD\r\n in\r\n\r\nchunks\r\n0;last\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n';
    const r = readEveryWay(wire);
    expect([r.events, r.body, r.keepAlive, r.leftover]).toEqual([['head', 'body', 'complete'], 'Wikipedia in\r\n\r\nchunks', true, 0]);
    expect(r.headers).toEqual({ 'transfer-encoding': 'chunked' }); // trailers are read past, not reported
  });

  it('skips 1xx answers and reports the final one only', () => {
    const r = readEveryWay('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Progress: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    expect([r.events, r.status, r.headers, r.body, r.keepAlive]).toEqual([['head', 'body', 'complete'], 201, { 'content-length': '2', connection: 'close' }, 'ok', false]);
  });

  it('refuses a protocol upgrade', () => {
    expect(readEveryWay('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n').error).toBe('UND_ERR_SOCKET');
  });

  it('reads a body delimited by close, and says the connection ends with it', () => {
    for (const wire of ['HTTP/1.0 200 OK\r\n\r\nuntil close', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nuntil close']) {
      const r = readEveryWay(wire, { close: true });
      expect([r.events, r.body, r.keepAlive]).toEqual([['head', 'body', 'complete'], 'until close', false]);
    }
    // A body the head delimited is not complete when the stream ends early.
    expect(readEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort', { close: true }).events).toEqual(['head', 'body', 'cut short']);
    expect(readEveryWay('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', { close: true }).events).toEqual(['head', 'body', 'cut short']);
  });

  it('knows the responses that have no body, and when the connection may be reused', () => {
    const noBody = (wire: string, o: Options = {}) => {
      const r = readEveryWay(wire, o);
      return [r.events, r.status, r.body, r.keepAlive];
    };
    expect(noBody('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { isHead: true })).toEqual([['head', 'complete'], 200, '', true]);
    expect(noBody('HTTP/1.1 204 No Content\r\n\r\n')).toEqual([['head', 'complete'], 204, '', true]);
    expect(noBody('HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n')).toEqual([['head', 'complete'], 304, '', true]);
    expect(noBody('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual([['head', 'complete'], 200, '', true]);
    expect(noBody('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual([['head', 'complete'], 200, '', false]);
    expect(noBody('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')).toEqual([['head', 'complete'], 200, '', true]);
    expect(noBody('HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nContent-Length: 0\r\n\r\n')).toEqual([['head', 'complete'], 200, '', false]);
    // Both framings at once: read as chunked, and the connection is not trusted again.
    const both = readEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect([both.body, both.keepAlive]).toEqual(['ok', false]);
  });

  it('reports the bytes past a response, and refuses any more until the next request starts', () => {
    // In the read that ends the response they are counted; in a later read they throw.
    const stray = everyCut('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokX').map((pieces) => read(pieces));
    for (const s of stray) {
      expect([s.events, s.body]).toEqual([['head', 'body', 'complete'], 'ok']);
      expect(s.leftover === 1 || s.error === 'UND_ERR_SOCKET').toBe(true);
    }
    expect(stray.at(-1)!.error).toBe('UND_ERR_SOCKET');
    expect(stray[0]!.leftover).toBe(1);

    // The next request's response, on the same parser.
    const p = new H1ResponseParser();
    for (const body of ['first', 'second']) {
      p.start(false);
      const wire = text(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      expect([p.feed(wire, 0, wire.length), p.feed(wire, p.offset, wire.length)]).toEqual([HEAD, BODY]);
      expect(wire.toString('latin1', p.bodyStart, p.bodyEnd)).toBe(body);
      expect(p.feed(wire, p.offset, wire.length)).toBe(COMPLETE);
    }
  });

  it('takes a head up to its limit and refuses one past it, however it is cut', () => {
    const limits = { maxHeadBytes: 64 };
    const head = (bytes: number) => {
      const start = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ';
      return `${start}${'p'.repeat(bytes - start.length)}\r\n\r\nok`;
    };
    expect(head(64).indexOf('\r\n\r\n')).toBe(64);
    const fits = readEveryWay(head(64), { limits });
    expect([fits.events, fits.body]).toEqual([['head', 'body', 'complete'], 'ok']);
    expect(readEveryWay(head(65), { limits }).error).toBe('UND_ERR_HEADERS_OVERFLOW');
    // A head that never ends is refused once it is past the limit, not buffered on.
    expect(readEveryWay(`HTTP/1.1 200 OK\r\nX-Slow: ${'s'.repeat(200)}`, { limits }).error).toBe('UND_ERR_HEADERS_OVERFLOW');
    // 1xx answers count against the limit one by one, not together.
    const interim = 'HTTP/1.1 102 Processing\r\n\r\n'.repeat(10);
    expect(readEveryWay(`${interim}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`, { limits }).status).toBe(200);
  });

  it('takes chunk-size and trailer lines up to their limit and refuses longer ones, however they are cut', () => {
    const limits = { maxLineBytes: 16 };
    const chunked = (sizeLine: string, trailer = 'X-T: 1') => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}\r\nabc\r\n0\r\n${trailer}\r\n\r\n`;
    expect(readEveryWay(chunked('3;' + 'e'.repeat(14)), { limits }).body).toBe('abc');
    expect(readEveryWay(chunked('3;' + 'e'.repeat(15)), { limits }).error).toBe('HPE_INVALID_CHUNK_SIZE');
    expect(readEveryWay(chunked('3', 'X-Trailer: ' + 't'.repeat(5)), { limits }).body).toBe('abc');
    expect(readEveryWay(chunked('3', 'X-Trailer: ' + 't'.repeat(6)), { limits }).error).toBe('HPE_INVALID_CHUNK_SIZE');
  });

  it('shows a body over the caller\'s cap before reading it: the declared length comes with the head, and body events give exactly the bytes fed', () => {
    const declared = 8 * 1024 ** 3;
    const wire = `HTTP/1.1 200 OK\r\nContent-Length: ${declared}\r\n\r\n${'x'.repeat(1000)}`;
    for (const pieces of everyCut(wire).slice(0, 40)) {
      const p = new H1ResponseParser();
      p.start(false);
      const seen: string[] = [];
      let bodyBytes = 0;
      for (const piece of pieces) {
        for (let event = p.feed(piece, 0, piece.length); event !== NEED_MORE; event = p.feed(piece, p.offset, piece.length)) {
          if (event === HEAD) seen.push(`head ${String(p.headers['content-length'])}`);
          if (event === BODY) {
            if (bodyBytes === 0) seen.push('body');
            bodyBytes += p.bodyEnd - p.bodyStart;
          }
        }
      }
      expect([seen, bodyBytes]).toEqual([[`head ${declared}`, 'body'], 1000]);
      expect(p.end()).toBe(false); // cut short, not complete
    }
  });

  it('refuses malformed status lines', () => {
    const bad = ['HTTP/2 200 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 Low', 'HTTP/1.1 2x0 OK', 'HTTP/1.1 1e2 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 200OK', 'HTP/1.1 200 OK', 'HTTP/1.x 200 OK', 'http/1.1 200 OK', 'HTTP/1.1', ''];
    for (const line of bad) expect([line, readEveryWay(`${line}\r\nContent-Length: 0\r\n\r\n`).error]).toEqual([line, 'HPE_INVALID_STATUS']);
    for (const [line, status] of [['HTTP/1.1 200', 200], ['HTTP/1.1 404 ', 404], ['HTTP/1.0 503 Service Unavailable', 503], ['HTTP/1.1 999 Odd', 999]] as const) {
      expect(readEveryWay(`${line}\r\nContent-Length: 0\r\n\r\n`).status).toBe(status);
    }
  });

  it('refuses malformed headers and framing', () => {
    const error = (wire: string) => readEveryWay(wire).error;
    expect(error('HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n')).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(error('HTTP/1.1 200 OK\r\n: no name\r\n\r\n')).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(error('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nBad\r\nX-Ok: a:b\r\n\r\n')).toBe('HPE_INVALID_HEADER_TOKEN');
    for (const cl of ['abc', '-1', '1.0', '0x10', ' ', '1234567890123456']) expect([cl, error(`HTTP/1.1 200 OK\r\nContent-Length: ${cl}\r\n\r\n`)]).toEqual([cl, 'HPE_UNEXPECTED_CONTENT_LENGTH']);
    expect(error('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx')).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
    for (const size of ['', 'g', '5 5', '-5', '1234567890abc', ';ext']) {
      expect([size, error(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`)]).toEqual([size, 'HPE_INVALID_CHUNK_SIZE']);
    }
    expect(error('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n')).toBe('HPE_STRICT');
    expect(error('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n')).toBe('HPE_STRICT');
    // What the parser does accept at the edges of a chunk-size line.
    expect(readEveryWay('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 00000000000F \r\nfifteen bytes!!\r\n0\r\n\r\n').body).toBe('fifteen bytes!!');
  });

  it('keeps a header named __proto__ as a plain header', () => {
    const r = readEveryWay('HTTP/1.1 200 OK\r\n__proto__: x\r\nContent-Length: 0\r\n__Proto__: y\r\n\r\n');
    expect(r.error).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(r.headers, '__proto__')?.value).toEqual(['x', 'y']);
    expect(Object.getPrototypeOf(r.headers)).toBe(Object.prototype);
  });

  it('reads a head that came with a body larger than one read', () => {
    // The head is cut; the rest of the head and a large body come in one read: only the head's
    // part of that read is joined to what was kept, the body is reported from the read itself.
    const body = 'b'.repeat(40_000);
    const wire = text(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const p = new H1ResponseParser();
    p.start(false);
    expect(p.feed(wire, 0, 10)).toBe(NEED_MORE);
    expect(p.feed(wire, 10, wire.length)).toBe(HEAD);
    expect(p.feed(wire, p.offset, wire.length)).toBe(BODY);
    expect([p.bodyStart, p.bodyEnd]).toEqual([wire.length - body.length, wire.length]);
    expect(p.feed(wire, p.offset, wire.length)).toBe(COMPLETE);
  });
});
