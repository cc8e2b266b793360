/**
 * slicer: splits each chunk into pieces of about `average_size` ± `size_variation` bytes, with
 * `delay` MICROseconds between pieces (Toxiproxy's unit for this one attribute).
 */
import { registerToxic } from './toxic.ts';
import { randomInt, type Random } from '../../src/base/random.ts';
import { pacedQueue, SEND_ALL } from './paced-queue.ts';

interface Attributes extends Record<string, number> {
  average_size: number;
  size_variation: number;
  delay: number;
}

/** Offsets [start0, end0, start1, end1, ...], halving recursively as Toxiproxy's chunk() does. */
function sliceOffsets(a: Attributes, random: Random, start: number, end: number, out: number[]): void {
  if (end - start - a.average_size <= a.size_variation) {
    out.push(start, end);
    return;
  }
  let mid = start + Math.floor((end - start) / 2);
  if (a.size_variation > 0) mid += randomInt(random, a.size_variation * 2) - a.size_variation;
  mid = Math.min(end - 1, Math.max(start + 1, mid));
  sliceOffsets(a, random, start, mid, out);
  sliceOffsets(a, random, mid, end, out);
}

registerToxic<Attributes>({
  type: 'slicer',
  goName: 'SlicerToxic',
  attributes: { average_size: 'int', size_variation: 'int', delay: 'int' },
  pipe(a, stub) {
    const delayMs = a.delay / 1000;
    return pacedQueue(stub, {
      hold(chunk, put) {
        const offsets: number[] = [];
        if (a.average_size <= 0) offsets.push(0, chunk.length);
        else sliceOffsets(a, stub.random, 0, chunk.length, offsets);
        for (let i = 0; i < offsets.length; i += 2) put(chunk.subarray(offsets[i]!, offsets[i + 1]!));
      },
      // The delay is between pieces: the first after a pause goes at once.
      next: (_piece, _mark, streak) => (delayMs > 0 && streak > 0 ? { waitMs: delayMs } : SEND_ALL),
      joinOnInterrupt: true,
    });
  },
});
