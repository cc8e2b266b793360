/**
 * The failover fault: what a Sentinel or a managed Redis does when the primary dies, made for real.
 *
 *   kill -9 primary ─> (detection delay) ─> REPLICAOF NO ONE on the replica ─> re-point proxies
 *        │                                                                         │
 *   replica's lag at this instant is what async replication loses        POST /proxies/{name}
 *                                                                        {"upstream": replica}
 *
 * The proxies play the virtual IP (or DNS name) clients resolve: every proxy whose upstream is
 * the dead primary is re-pointed at the promoted replica through the Toxiproxy API, which closes
 * their open connections (Toxiproxy's Update restarts a proxy whose upstream changed), so clients
 * reconnect and land on the new primary.
 *
 * A kill -9 of the process alone loses almost nothing on one machine: the kernel still delivers
 * what Redis had written to the replication socket. A primary whose host dies takes the bytes in
 * flight with it, so by default the replication link (the proxy the replica follows through, found
 * from the replica's master_host/master_port) is cut the instant before the kill, dropping what it
 * held: with a latency toxic on that link, that is the replica's lag, and what the failover loses.
 *
 * Verified when the replica answers ROLE as master and a probe write succeeds through every
 * re-pointed proxy. The failover itself is not reversed (nor is it by Sentinel): the undo brings
 * the old primary back as a replica of the new one, so the harness can still read the store
 * through the old primary's address after the run, and that address holds the surviving data.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { sleepUnlessAborted, systemClock, type Clock } from '../src/base/clock.ts';
import type { AppliedFault } from './process.ts';
import { infoField, withRedis, type FaultableStore } from './store-faults.ts';

export const FAILOVER_DEFAULTS = {
  /** Time between the kill and the promotion (Sentinel's down-after-milliseconds, shortened). */
  detectionDelayMs: 500,
  /** Bound on the old primary's resync when it rejoins as a replica. */
  rejoinTimeoutMs: 4_000,
} as const;

const PROBE_KEY = 'stateproof:chaos:failover-probe';

export interface FailoverOptions {
  primary: FaultableStore;
  replicaUrl: string;
  toxiproxyUrl: string;
  /** Proxies to re-point; default every proxy whose upstream is the primary's address. */
  proxies?: string[];
  detectionDelayMs?: number;
  /** Drop the replication bytes in flight at the kill (the primary's host dies). Default true. */
  dropInFlight?: boolean;
  signal?: AbortSignal;
  /** Times the detection delay. Default systemClock. */
  clock?: Clock;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** "localhost:6379", "127.0.0.1:6379" and ":6379" name one address here (all loopback). */
function sameAddress(a: string, b: { host: string; port: number }): boolean {
  const i = a.lastIndexOf(':');
  const host = a.slice(0, i).replace(/^\[|\]$/g, '');
  const loopback = (h: string) => h === '' || h === 'localhost' || h === '127.0.0.1' || h === '::1';
  return Number(a.slice(i + 1)) === b.port && (host === b.host || (loopback(host) && loopback(b.host)));
}

async function replicationOffset(url: string, field: string): Promise<number | undefined> {
  try {
    const v = await withRedis(url, (r) => infoField(r, 'replication', field));
    return v === undefined ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

async function probeWrite(listen: string): Promise<string | undefined> {
  const url = `redis://${listen.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:')}`;
  try {
    await withRedis(url, async (r) => {
      await r.set(PROBE_KEY, String(Date.now()));
      await r.del(PROBE_KEY);
    });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The proxy the replica follows the primary through, if it follows through one. */
async function replicationProxy(client: Toxiproxy, replicaUrl: string): Promise<string | undefined> {
  try {
    const follows = await withRedis(replicaUrl, async (r) => ({ host: await infoField(r, 'replication', 'master_host'), port: await infoField(r, 'replication', 'master_port') }));
    if (!follows.host || !follows.port) return undefined;
    const addr = { host: follows.host, port: Number(follows.port) };
    return Object.values(await client.getAll()).find((p) => sameAddress(p.listen, addr))?.name;
  } catch {
    return undefined;
  }
}

export async function storeFailover(opts: FailoverOptions): Promise<AppliedFault> {
  const { primary } = opts;
  const primaryAddr = { host: primary.host, port: primary.port };
  const replicaAddr = hostPort(opts.replicaUrl);
  const client = new Toxiproxy(opts.toxiproxyUrl);

  const replicationLink = opts.dropInFlight === false ? undefined : await replicationProxy(client, opts.replicaUrl);
  // What the replica had not yet received when the primary died: the bytes async replication loses.
  const [primaryOffset, replicaOffset] = await Promise.all([replicationOffset(primary.url, 'master_repl_offset'), replicationOffset(opts.replicaUrl, 'slave_repl_offset')]);
  const killStartMs = Date.now();
  const pid = primary.pid;
  if (replicationLink) {
    const link = await client.get(replicationLink);
    await link.update({ enabled: false, listen: link.listen, upstream: link.upstream });
  }
  await primary.kill9();
  const killedAtMs = Date.now();

  // An abort cuts the detection delay short; the promotion still happens, so the store is left whole.
  await sleepUnlessAborted(opts.clock ?? systemClock, opts.detectionDelayMs ?? FAILOVER_DEFAULTS.detectionDelayMs, opts.signal);
  const role = await withRedis(opts.replicaUrl, async (r) => {
    await r.call('REPLICAOF', 'NO', 'ONE');
    return ((await r.call('ROLE')) as unknown[])[0];
  });
  const promotedAtMs = Date.now();

  const names = opts.proxies ?? Object.values(await client.getAll()).filter((p) => sameAddress(p.upstream, primaryAddr)).map((p) => p.name).sort();
  const upstream = `${replicaAddr.host}:${replicaAddr.port}`;
  const repointed: Array<{ name: string; listen: string }> = [];
  for (const name of names) {
    const p = await client.get(name);
    // The replication link was cut by us, not by another fault: it comes back, pointing at the new primary.
    const updated = await p.update({ enabled: name === replicationLink ? true : p.enabled, listen: p.listen, upstream });
    repointed.push({ name, listen: updated.listen });
  }
  if (replicationLink && !names.includes(replicationLink)) {
    const link = await client.get(replicationLink);
    await link.update({ enabled: true, listen: link.listen, upstream: link.upstream });
  }
  const repointedAtMs = Date.now();

  const probeErrors = (await Promise.all(repointed.filter((p) => p.name !== replicationLink).map(async (p) => ({ name: p.name, error: await probeWrite(p.listen) })))).filter((p) => p.error !== undefined);
  const probed = repointed.filter((p) => p.name !== replicationLink).length;
  const lag = primaryOffset !== undefined && replicaOffset !== undefined ? `${primaryOffset - replicaOffset} bytes behind (primary offset ${primaryOffset}, replica ${replicaOffset})` : 'lag unknown';
  const detail =
    (replicationLink ? `cut replication link ${replicationLink} (in-flight bytes dropped, as when the primary's host dies); ` : '') +
    `killed primary pid ${pid} at ${new Date(killedAtMs).toISOString()} (${killedAtMs - killStartMs} ms); replica was ${lag}; ` +
    `promoted ${promotedAtMs - killedAtMs} ms after the kill (ROLE ${String(role)}); ` +
    `re-pointed ${repointed.map((p) => p.name).join(', ') || '(no proxy)'} → ${upstream} ${repointedAtMs - killedAtMs} ms after the kill; ` +
    (probeErrors.length ? `probe write failed through ${probeErrors.map((p) => `${p.name} (${p.error})`).join(', ')}` : `probe write ok through ${probed} prox${probed === 1 ? 'y' : 'ies'}`);

  return {
    verified: role === 'master' && probed > 0 && probeErrors.length === 0,
    detail,
    undo: () => rejoinAsReplica(primary, opts.replicaUrl),
  };
}

/** The old primary comes back empty (no AOF) or stale, and follows the new primary until in sync. */
export async function rejoinAsReplica(old: FaultableStore, newPrimaryUrl: string, timeoutMs: number = FAILOVER_DEFAULTS.rejoinTimeoutMs): Promise<void> {
  const to = hostPort(newPrimaryUrl);
  // Redis 7 waits 5 s before a diskless full sync in case more replicas join; ours is alone.
  await withRedis(newPrimaryUrl, (r) => r.config('SET', 'repl-diskless-sync-delay', '0'));
  await old.restart();
  await withRedis(old.url, async (r) => {
    await r.call('REPLICAOF', to.host, String(to.port));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await r.info('replication');
      if (/master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info)) return;
      if (Date.now() > deadline) throw new Error(`the old primary did not finish resyncing from the new one within ${timeoutMs} ms`);
      await systemClock.sleep(50);
    }
  });
}
