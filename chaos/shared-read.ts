/**
 * Every proxied socket reads into one shared buffer (net's `onread`) instead of Node's default,
 * which allocates a 64 KiB buffer per read, shrinks it to the bytes read and pushes it through a
 * Readable before the 'data' event: on the proxy's fast path that was most of its user-space CPU
 * per chunk (a profile of redis-benchmark through it: malloc/realloc, readableAddChunk, Readable.read).
 *
 * Each read is copied out of the shared buffer into a buffer of its own size (from Node's pool
 * below 4 KiB) before the callback sees it: a socket write that the kernel does not take at once
 * keeps pointing at the memory it was given, so handing on a view of the shared buffer would let
 * the next read, on any socket, overwrite bytes still waiting to be sent. The copy costs far less
 * than the default path's 64 KiB allocation, and the chunk is then the callback's to keep.
 *
 * An outgoing socket takes `onread` in `net.connect`. An accepted one cannot (net.Server has no such
 * option), so `adoptSharedRead` gives it the same two fields `onread` sets, found by value on a probe
 * socket rather than by name; on a Node where that probe fails, it falls back to 'data' events,
 * which are slower but behave the same. The socket must not have started reading (accept with
 * `pauseOnConnect`).
 */
import net from 'node:net';

/** Larger than any single read the kernel hands over on loopback with default buffers. */
const SHARED_BUFFER = Buffer.allocUnsafe(64 * 1024);

export type ReadCallback = (bytes: Buffer) => void;

/** `onread` for `net.connect`: each read's bytes, in a buffer of their own. */
export function sharedOnread(callback: ReadCallback): net.OnReadOpts {
  return {
    buffer: SHARED_BUFFER,
    callback: (n) => {
      const chunk = Buffer.allocUnsafe(n);
      SHARED_BUFFER.copy(chunk, 0, 0, n);
      callback(chunk);
      return true; // flow control is the caller's, through pause()/resume()
    },
  };
}

interface Fields {
  buffer: symbol;
  callback: symbol;
}

function probe(): Fields | undefined {
  const opts = sharedOnread(() => {});
  // net.Socket takes `onread` as net.connect does; @types/node declares it on connect only.
  const s = new net.Socket({ onread: opts } as net.SocketConstructorOpts) as unknown as Record<symbol, unknown>;
  const syms = Object.getOwnPropertySymbols(s);
  const buffer = syms.find((k) => s[k] === opts.buffer);
  const callback = syms.find((k) => s[k] === opts.callback);
  (s as unknown as net.Socket).destroy();
  return buffer && callback ? { buffer, callback } : undefined;
}

let fields: Fields | undefined | null = null;

interface StreamHandle {
  useUserBuffer?(buf: Uint8Array): void;
}

/**
 * Start reading an accepted, paused socket into the shared buffer. Returns false when it had to
 * fall back to 'data' events (the callback gets every chunk either way).
 */
export function adoptSharedRead(socket: net.Socket, callback: ReadCallback): boolean {
  if (fields === null) fields = probe();
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (fields && handle && typeof handle.useUserBuffer === 'function') {
    const opts = sharedOnread(callback);
    const s = socket as unknown as Record<symbol, unknown>;
    s[fields.buffer] = opts.buffer;
    s[fields.callback] = opts.callback;
    handle.useUserBuffer(opts.buffer as Uint8Array);
    socket.resume();
    return true;
  }
  socket.on('data', callback);
  socket.resume();
  return false;
}
