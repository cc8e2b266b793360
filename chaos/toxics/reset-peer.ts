/**
 * reset_peer: when data arrives, wait `timeout` ms (0 = at once), then reset the connection with
 * a TCP RST on both sides (SO_LINGER 0, as Toxiproxy does). Data held while waiting is forwarded
 * if the toxic is removed first.
 */
import { registerToxic } from './toxic.ts';

interface Attributes extends Record<string, number> {
  timeout: number;
}

registerToxic<Attributes>({
  type: 'reset_peer',
  goName: 'ResetToxic',
  attributes: { timeout: 'int64' },
  pipe(a, stub) {
    const held: Buffer[] = [];
    let armed = false;
    return {
      data(chunk) {
        held.push(chunk);
        if (armed) return;
        armed = true;
        if (a.timeout <= 0) stub.reset();
        else stub.after(a.timeout, () => stub.reset());
      },
      end: () => {
        if (!armed) stub.close();
      },
      interrupt() {
        for (const chunk of held.splice(0)) stub.push(chunk);
      },
    };
  },
});
