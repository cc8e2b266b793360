/**
 * timeout: no data gets through; the connection closes after `timeout` ms (never when 0, until
 * the toxic is removed). Removing it closes the connection too (Toxiproxy's Cleanup): bytes were
 * dropped, so the stream can no longer be trusted by either side.
 */
import { registerToxic } from './toxic.ts';

interface Attributes extends Record<string, number> {
  timeout: number;
}

registerToxic<Attributes>({
  type: 'timeout',
  goName: 'TimeoutToxic',
  attributes: { timeout: 'int64' },
  pipe(a, stub) {
    if (a.timeout > 0) stub.after(a.timeout, () => stub.close());
    return {
      data: (chunk) => stub.discard(chunk.length),
      end: () => stub.close(),
      interrupt: () => {},
    };
  },
  cleanup: (stub) => stub.close(),
});
