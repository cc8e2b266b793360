/**
 * What the fault proxy costs the measurement: every store round trip of the system under test
 * crosses it, so whatever it adds is in every latency the run reports. Measured once at topology
 * start, before any load: the smallest round trip of the store's own protocol straight to the
 * store and through the proxies an instance's store traffic crosses, in interleaved pairs (the
 * order flips every pair, so drift in machine load hits both paths alike), one at a time on an
 * open connection each. Redis and Valkey: `PING` on a raw socket. PostgreSQL: `SELECT 1` through
 * a `pg` client (the driver both Postgres adapters use), whose own parsing is on both paths alike.
 *
 *   direct:   harness ──────────────────────────────► redis-server | postgres
 *   proxied:  harness ──► [redis-i1] ──► [redis] ───► redis-server | postgres
 */
import net from 'node:net';
import pg from 'pg';

/** The store protocol a measurement speaks, and the round trip it times. */
export const PROBES = { redis: 'PING', postgres: 'SELECT 1' } as const;
export type ProbeProtocol = keyof typeof PROBES;

export interface ProxyCost {
  /** Round trips on each path. */
  samples: number;
  /** What each round trip was. */
  probe: (typeof PROBES)[ProbeProtocol];
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
  /** Round trips per path (after the warm-up). */
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
  /** Default redis. */
  protocol?: ProbeProtocol;
  /** postgres: who connects, to which database (trust auth, as the topology's server has). Default postgres/postgres. */
  postgres?: { user?: string; database?: string };
  proxy: ProxyCost['proxy'];
  samples?: number;
  warmupPairs?: number;
  timeoutMs?: number;
}

const PING = Buffer.from('*1\r\n$4\r\nPING\r\n');
const PONG = '+PONG\r\n';

/** One open connection that times one round trip of its store's protocol at a time. */
interface Prober {
  roundTrip(): Promise<number>;
}

/** One connection that sends a PING and resolves with the round trip in ms once +PONG is back. */
class Pinger implements Prober {
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

  roundTrip(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, startNs: process.hrtime.bigint() };
      this.socket.write(PING);
    });
  }
}

/** One pg connection; a round trip is a simple-protocol `SELECT 1` to its ReadyForQuery. */
class PgProber implements Prober {
  private constructor(private readonly client: pg.Client) {}

  static async open(at: Endpoint, sockets: net.Socket[], who: NonNullable<ProxyCostOptions['postgres']>): Promise<PgProber> {
    const client = new pg.Client({
      host: at.host,
      port: at.port,
      user: who.user ?? 'postgres',
      database: who.database ?? 'postgres',
      // The socket is ours, so a timed-out measurement can close it even mid-connect.
      stream: () => {
        const s = new net.Socket();
        sockets.push(s);
        return s;
      },
    });
    // A connection cut after connect would otherwise be an unhandled 'error'; the pending query rejects anyway.
    client.on('error', () => {});
    await client.connect();
    return new PgProber(client);
  }

  async roundTrip(): Promise<number> {
    const t0 = process.hrtime.bigint();
    await this.client.query('SELECT 1');
    return Number(process.hrtime.bigint() - t0) / 1e6;
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
  const protocol = opts.protocol ?? 'redis';
  const probe = PROBES[protocol];
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`samples must be a positive integer; got ${samples}`);
  const sockets: net.Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`measuring the fault proxy's cost (${samples} ${probe} round trips each way) took over ${timeoutMs} ms`)), timeoutMs);
  });
  const open = (at: Endpoint): Promise<Prober> => (protocol === 'postgres' ? PgProber.open(at, sockets, opts.postgres ?? {}) : Pinger.open(at, sockets));
  const measure = async (): Promise<ProxyCost> => {
    const d = await open(direct);
    const p = await open(proxied);
    const directMs: number[] = [];
    const proxiedMs: number[] = [];
    for (let i = 0; i < warmup + samples; i++) {
      const [first, second] = i % 2 === 0 ? [d, p] : [p, d];
      const a = await first.roundTrip();
      const b = await second.roundTrip();
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
      probe,
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
