/**
 * The stage of a toxic that paces a stream rather than passing it through (latency, bandwidth,
 * slicer). What it accepts waits in one FIFO with at most one timer pending; the toxic's pacer
 * only says, for the oldest held chunk, how long it must still wait or how much of it may go:
 *
 *   data ─► hold ─► [ chunk · chunk · … ] ─► pacer.next(head) ─► wait ms ─► timer ─► next again
 *                                                           └──► send n bytes ─► stub.push ─► next
 *   end ─────────► close once nothing is held
 *   interrupt ───► cancel the wait; push everything held, in order, synchronously
 *
 * This is the one copy of Toxiproxy's rule that a fault delays or cuts but never drops bytes it
 * accepted: when the toxic is removed or updated, all it holds is forwarded before it is rewired.
 */
import type { Stage, ToxicStub } from './toxic.ts';

/** The pacer's word on the oldest held chunk. */
export type Step = { readonly waitMs: number } | { readonly sendBytes: number };

/** Forward the whole head now. */
export const SEND_ALL: Step = { sendBytes: Number.POSITIVE_INFINITY };

export interface Pacer {
  /**
   * How an incoming chunk is held: by default whole; a pacer may hold it in pieces (slicer), and
   * give each a `mark`, a number it gets back with the piece (latency: when it is due).
   */
  hold?(chunk: Buffer, put: (piece: Buffer, mark?: number) => void): void;
  /**
   * Asked about the oldest held chunk whenever no wait is pending, and again after each wait.
   * `streak` counts the chunks sent since the last wait or since nothing was held.
   */
  next(head: Buffer, mark: number, streak: number): Step;
  /** On interrupt, forward what is held as one chunk rather than as held (slicer's pieces are its own). */
  joinOnInterrupt?: boolean;
}

interface Held {
  bytes: Buffer;
  readonly mark: number;
}

export function pacedQueue(stub: ToxicStub, pacer: Pacer): Stage {
  const held: Held[] = [];
  let ended = false;
  let cancel: (() => void) | undefined;
  const put = (bytes: Buffer, mark = 0) => {
    held.push({ bytes, mark });
  };

  const pump = (): void => {
    cancel = undefined;
    let streak = 0;
    while (held.length > 0) {
      const head = held[0]!;
      const step = pacer.next(head.bytes, head.mark, streak);
      if ('waitMs' in step) {
        cancel = stub.after(step.waitMs, pump);
        return;
      }
      if (step.sendBytes < head.bytes.length) {
        const piece = head.bytes.subarray(0, step.sendBytes);
        head.bytes = head.bytes.subarray(step.sendBytes);
        stub.push(piece);
      } else {
        held.shift();
        stub.push(head.bytes);
      }
      streak++;
    }
    if (ended) stub.close();
  };

  return {
    data(chunk) {
      if (pacer.hold) pacer.hold(chunk, put);
      else put(chunk);
      if (!cancel) pump();
    },
    end() {
      ended = true;
      if (!cancel) pump();
    },
    interrupt() {
      cancel?.();
      cancel = undefined;
      const all = held.splice(0);
      if (all.length === 0) return;
      if (pacer.joinOnInterrupt) stub.push(Buffer.concat(all.map((h) => h.bytes)));
      else for (const h of all) stub.push(h.bytes);
    },
  };
}
