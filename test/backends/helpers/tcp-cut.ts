/**
 * A TCP forwarder on 127.0.0.1 whose link a test can cut and restore, standing in for the network
 * between a library and its store (the harness's "store link cut"), with nothing else in the way.
 * cut(): every open connection is destroyed and the listener closed, so a reconnect is refused
 * (ECONNREFUSED), as from a host that is unreachable or down. restore(): listening again on the
 * same port, forwarding as before.
 */
import net from 'node:net';

export interface TcpCut extends AsyncDisposable {
  /** Where the library connects instead of the store. */
  readonly port: number;
  readonly url: (scheme: string, rest?: string) => string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpCut(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpCut> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    // Either side ending or failing ends the pair: a half-open link would hide the cut.
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      for (const s of open) s.destroy();
      open.clear();
    });
  const close = stopListening;
  return {
    port,
    url: (scheme, rest = '') => `${scheme}://127.0.0.1:${port}${rest}`,
    cut: stopListening,
    async restore() {
      if (listening) return;
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      listening = true;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
