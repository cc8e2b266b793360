/**
 * bandwidth: at most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). Large chunks go out in
 * pieces of 100 ms worth of bytes; a virtual clock carries timer imprecision forward so the
 * average rate stays exact. rate 0 means unlimited.
 */
import { passThrough, registerToxic } from './toxic.ts';
import { pacedQueue } from './paced-queue.ts';

interface Attributes extends Record<string, number> {
  rate: number;
}

registerToxic<Attributes>({
  type: 'bandwidth',
  goName: 'BandwidthToxic',
  attributes: { rate: 'int64' },
  pipe(a, stub) {
    if (a.rate <= 0) return passThrough(stub);
    const bytesPerMs = a.rate; // KB/s == bytes/ms
    const pieceBytes = Math.max(1, a.rate * 100);
    let freeAtMs = Date.now();
    // The piece whose transmission time has been waited for: it goes when next is asked again.
    let waitedBytes: number | undefined;
    return pacedQueue(stub, {
      next(head) {
        if (waitedBytes !== undefined) {
          const sendBytes = waitedBytes;
          waitedBytes = undefined;
          return { sendBytes };
        }
        waitedBytes = Math.min(head.length, pieceBytes);
        freeAtMs = Math.max(freeAtMs, Date.now()) + waitedBytes / bytesPerMs;
        return { waitMs: Math.max(0, freeAtMs - Date.now()) };
      },
    });
  },
});
