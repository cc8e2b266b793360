/**
 * limit_data: closes the stream once `bytes` bytes have passed; the count is kept per connection
 * (StatefulToxic), so updating the limit does not restart it.
 */
import { registerToxic } from './toxic.ts';

interface Attributes extends Record<string, number> {
  bytes: number;
}

interface State {
  transmittedBytes: number;
}

registerToxic<Attributes>({
  type: 'limit_data',
  goName: 'LimitDataToxic',
  attributes: { bytes: 'int64' },
  newState: (): State => ({ transmittedBytes: 0 }),
  pipe(a, stub) {
    const state = stub.state as State;
    let closed = false;
    return {
      data(chunk) {
        if (closed) return stub.discard(chunk.length);
        const remaining = Math.max(0, a.bytes - state.transmittedBytes);
        const out = remaining < chunk.length ? chunk.subarray(0, remaining) : chunk;
        if (out.length > 0) {
          stub.push(out);
          state.transmittedBytes += out.length;
        }
        if (out.length < chunk.length) stub.discard(chunk.length - out.length);
        if (a.bytes - state.transmittedBytes <= 0) {
          closed = true;
          stub.close();
        }
      },
      end: () => stub.close(),
      interrupt: () => {},
    };
  },
});
