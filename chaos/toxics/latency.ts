/**
 * latency: every chunk is delayed by `latency` ± `jitter` ms. Chunks leave in order (a later
 * chunk with less jitter waits for the one before it), as Toxiproxy's sequential pipe does.
 */
import { registerToxic } from './toxic.ts';
import { pacedQueue, SEND_ALL } from './paced-queue.ts';

interface Attributes extends Record<string, number> {
  latency: number;
  jitter: number;
}

registerToxic<Attributes>({
  type: 'latency',
  goName: 'LatencyToxic',
  attributes: { latency: 'int64', jitter: 'int64' },
  pipe(a, stub) {
    const delayMs = () => (a.jitter > 0 ? a.latency + Math.floor(stub.random() * a.jitter * 2) - a.jitter : a.latency);
    return pacedQueue(stub, {
      hold: (chunk, put) => put(chunk, Date.now() + delayMs()),
      // Asked again after each wait, since a timer may fire a little early.
      next(_head, dueMs) {
        const waitMs = dueMs - Date.now();
        return waitMs > 0 ? { waitMs } : SEND_ALL;
      },
    });
  },
});
