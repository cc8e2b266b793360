import net from 'node:net';

/**
 * An ephemeral port on 127.0.0.1 that was free a moment ago. For programs (like redis-server)
 * that cannot listen on port 0 and report back; there is a small race, so callers that start
 * such a program retry on EADDRINUSE.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of an ephemeral listener'));
      });
    });
  });
}
