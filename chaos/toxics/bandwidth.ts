/**
 * bandwidth: at most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). Large chunks go out in
 * pieces of 100 ms worth of bytes; a virtual clock carries timer imprecision forward so the
 * average rate stays exact. rate 0 means unlimited.
 */
import { registerToxic } from './toxic.ts';

interface Attributes extends Record<string, number> {
  rate: number;
}

registerToxic<Attributes>({
  type: 'bandwidth',
  goName: 'BandwidthToxic',
  attributes: { rate: 'int64' },
  pipe(a, stub) {
    const bytesPerMs = a.rate; // KB/s == bytes/ms
    const pieceBytes = Math.max(1, a.rate * 100);
    const queue: Buffer[] = [];
    let ended = false;
    let cancel: (() => void) | undefined;
    let freeAtMs = Date.now();

    const pump = () => {
      cancel = undefined;
      const head = queue[0];
      if (!head) {
        if (ended) stub.close();
        return;
      }
      const piece = head.length > pieceBytes ? head.subarray(0, pieceBytes) : head;
      freeAtMs = Math.max(freeAtMs, Date.now()) + piece.length / bytesPerMs;
      cancel = stub.after(Math.max(0, freeAtMs - Date.now()), () => {
        if (piece === head) queue.shift();
        else queue[0] = head.subarray(piece.length);
        stub.push(piece);
        pump();
      });
    };

    return {
      data(chunk) {
        if (bytesPerMs <= 0) return stub.push(chunk);
        queue.push(chunk);
        if (!cancel) pump();
      },
      end() {
        ended = true;
        if (!cancel) pump();
      },
      interrupt() {
        cancel?.();
        cancel = undefined;
        for (const chunk of queue.splice(0)) stub.push(chunk);
      },
    };
  },
});
