/** slow_close: data passes; the end of the stream is held back `delay` ms. */
import { registerToxic } from './toxic.ts';

interface Attributes extends Record<string, number> {
  delay: number;
}

registerToxic<Attributes>({
  type: 'slow_close',
  goName: 'SlowCloseToxic',
  attributes: { delay: 'int64' },
  pipe(a, stub) {
    return {
      data: (chunk) => stub.push(chunk),
      end: () => {
        stub.after(a.delay, () => stub.close());
      },
      // The pending end is forwarded by the link when the toxic is removed.
      interrupt: () => {},
    };
  },
});
