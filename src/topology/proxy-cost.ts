/**
 * What the fault proxy costs the measurement: every store round trip of the system under test
 * crosses it, so whatever it adds is in every latency the run reports. Measured once at topology
 * start, before any load: PINGs straight to redis-server and PINGs through the proxies an
 * instance's store traffic crosses, in interleaved pairs (the order flips every pair, so drift in
 * machine load hits both paths alike), one at a time on an open connection each.
 *
 *   direct:   harness ──────────────────────────────► redis-server
 *   proxied:  harness ──► [redis-i1] ──► [redis] ───► redis-server
 */
import net from 'node:net';

export interface ProxyCost {
  /** PINGs on each path. */
  samples: number;
  /** The proxies a store round trip crosses, in order. */
  via: string[];
  /** Which fault proxy carried them. */
  proxy: 'embedded' | 'toxiproxy';
  directMs: { p50: number; p99: number };
  proxiedMs: { p50: number; p99: number };
  /** proxied − direct at each percentile, floored at 0 (on an idle proxy, noise can make it negative). */
  addedMs: { p50: number; p99: number };
}

export const PROXY_COST_DEFAULTS = Object.freeze({
  /** PINGs per path (after the warm-up). */
  samples: 200,
  /** Pairs sent first and not counted: connection set-up, JIT. */
  warmupPairs: 20,
  /** The whole measurement, warm-up included. */
  timeoutMs: 5_000,
});

export interface Endpoint {
  host: string;
  port: number;
}

export interface ProxyCostOptions {
  via: string[];
  proxy: ProxyCost['proxy'];
  samples?: number;
  warmupPairs?: number;
  timeoutMs?: number;
}

const PING = Buffer.from('*1\r\n$4\r\nPING\r\n');
const PONG = '+PONG\r\n';

/** One connection that sends a PING and resolves with the round trip in ms once +PONG is back. */
class Pinger {
  private pending: { resolve: (ms: number) => void; reject: (e: Error) => void; startNs: bigint } | undefined;
  private got = '';

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.got += d.toString('latin1');
      if (!this.pending || this.got.length < PONG.length) return;
      const p = this.pending;
      this.pending = undefined;
      const reply = this.got;
      this.got = '';
      if (reply !== PONG) p.reject(new Error(`expected +PONG, got ${JSON.stringify(reply.slice(0, 60))}`));
      else p.resolve(Number(process.hrtime.bigint() - p.startNs) / 1e6);
    });
    const fail = (e: Error) => {
      this.pending?.reject(e);
      this.pending = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** `sockets` collects the socket at once, so a timed-out measurement can close it even mid-connect. */
  static open(at: Endpoint, sockets: net.Socket[]): Promise<Pinger> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: at.host, port: at.port, noDelay: true });
      sockets.push(s);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new Pinger(s));
      });
      s.once('error', reject);
    });
  }

  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, startNs: process.hrtime.bigint() };
      this.socket.write(PING);
    });
  }

}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Rejects after `timeoutMs` with an error that says what was being measured. */
export async function measureProxyCost(direct: Endpoint, proxied: Endpoint, opts: ProxyCostOptions): Promise<ProxyCost> {
  const samples = opts.samples ?? PROXY_COST_DEFAULTS.samples;
  const warmup = opts.warmupPairs ?? PROXY_COST_DEFAULTS.warmupPairs;
  const timeoutMs = opts.timeoutMs ?? PROXY_COST_DEFAULTS.timeoutMs;
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`samples must be a positive integer; got ${samples}`);
  const sockets: net.Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`measuring the fault proxy's cost (${samples} PINGs each way) took over ${timeoutMs} ms`)), timeoutMs);
  });
  const measure = async (): Promise<ProxyCost> => {
    const d = await Pinger.open(direct, sockets);
    const p = await Pinger.open(proxied, sockets);
    const directMs: number[] = [];
    const proxiedMs: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const [first, second] = i % 2 === 0 ? [d, p] : [p, d];
      const a = await first.ping();
      const b = await second.ping();
      if (i < warmup) continue;
      directMs.push(first === d ? a : b);
      proxiedMs.push(first === d ? b : a);
    }
    directMs.sort((x, y) => x - y);
    proxiedMs.sort((x, y) => x - y);
    const at = (xs: number[]) => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) });
    const dm = at(directMs);
    const pm = at(proxiedMs);
    return {
      samples,
      via: [...opts.via],
      proxy: opts.proxy,
      directMs: dm,
      proxiedMs: pm,
      addedMs: { p50: Math.max(0, pm.p50 - dm.p50), p99: Math.max(0, pm.p99 - dm.p99) },
    };
  };
  try {
    return await Promise.race([measure(), deadline]);
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
}
