/**
 * latency: every chunk is delayed by `latency` ± `jitter` ms. Chunks leave in order (a later
 * chunk with less jitter waits for the one before it), as Toxiproxy's sequential pipe does.
 */
import { registerToxic, type ToxicStub } from './toxic.ts';

interface Attributes extends Record<string, number> {
  latency: number;
  jitter: number;
}

registerToxic<Attributes>({
  type: 'latency',
  goName: 'LatencyToxic',
  attributes: { latency: 'int64', jitter: 'int64' },
  pipe(a, stub: ToxicStub) {
    const queue: Array<{ chunk: Buffer; dueMs: number }> = [];
    let ended = false;
    let cancel: (() => void) | undefined;
    const delayMs = () => (a.jitter > 0 ? a.latency + Math.floor(stub.random() * a.jitter * 2) - a.jitter : a.latency);

    const pump = () => {
      cancel = undefined;
      while (queue.length > 0) {
        const head = queue[0]!;
        const waitMs = head.dueMs - Date.now();
        if (waitMs > 0) {
          cancel = stub.after(waitMs, pump);
          return;
        }
        queue.shift();
        stub.push(head.chunk);
      }
      if (ended) stub.close();
    };

    return {
      data(chunk) {
        queue.push({ chunk, dueMs: Date.now() + delayMs() });
        if (!cancel) pump();
      },
      end() {
        ended = true;
        if (!cancel) pump();
      },
      interrupt() {
        // Leave fast without the delay; never drop what was accepted.
        cancel?.();
        cancel = undefined;
        for (const { chunk } of queue.splice(0)) stub.push(chunk);
      },
    };
  },
});
