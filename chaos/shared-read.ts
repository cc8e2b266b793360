/**
 * Every proxied socket reads into one shared buffer (net's `onread`) instead of Node's default,
 * which allocates a 64 KiB buffer per read, shrinks it to the bytes read and pushes it through a
 * Readable before the 'data' event: on the proxy's fast path that was most of its user-space CPU
 * per chunk (a profile of redis-benchmark through it: malloc/realloc, readableAddChunk, Readable.read).
 *
 * The bytes handed to the callback are valid only until it returns: the next read, on any socket,
 * overwrites them. Reads run one at a time on this thread, so a callback that forwards at once or
 * copies what it keeps is safe. (A partial socket write copies its unsent rest natively, so
 * writing the view to a socket with nothing queued is "forwarding at once"; see Link.forward.)
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

/** `onread` for `net.connect`: each read's bytes, as a view of the shared buffer. */
export function sharedOnread(callback: ReadCallback): net.OnReadOpts {
  return {
    buffer: SHARED_BUFFER,
    callback: (n, buf) => {
      callback((buf as Buffer).subarray(0, n));
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
