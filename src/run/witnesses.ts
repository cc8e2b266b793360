/**
 * The witnesses beside the client's history: each instance's /metrics (scraped before and after
 * the load), the service's audit trail, and the store itself (a snapshot, and used_memory for the
 * capacity figures). A witness the backend gives no access to is left out, never made up.
 */
import { linesOf } from '../base/lines.ts';
import { parseAuditLine } from '../check/reconcile.ts';
import { interner } from '../check/sessions.ts';
import type { AuditRecord, MetricsScrape, StoreSnapshot } from '../check/types.ts';
import type { AuditPartitions } from '../check/partitioned-check.ts';
import type { Topology } from '../topology/index.ts';
import { auditSpill, type AuditSpill } from './audit-spill.ts';
import { scrapeMetrics } from './scrape.ts';
import { snapshotStore, usedMemoryBytes, type SnapshotExtras } from './store-snapshot.ts';

/** Where one instance serves /metrics. */
export interface Endpoint {
  id: string;
  url: string;
}

export interface WitnessesBefore {
  /** /metrics text per endpoint id; undefined where the scrape failed. */
  scrapes: Map<string, string | undefined>;
  usedMemoryBytes: number | null;
}

export interface Witnesses {
  scrapes: MetricsScrape[];
  /** Empty when no instance wrote an audit log the harness can read, or when it went to disk (auditParts). */
  audit: AuditRecord[];
  /** The audit trail on disk in the history's partitions, when the run spilled (witnessAfter's auditSpill). */
  auditParts?: AuditPartitions;
  /** Absent when the store is not reachable (an external backend without --redis-url). */
  store: StoreSnapshot[] | undefined;
  /** MEMORY USAGE sampled by key kind, for the capacity breakdown; null without a store. */
  keyMemory: SnapshotExtras['keyMemory'] | null;
  /** A cluster: what each primary holds; null on one Redis or without a store. */
  shards?: NonNullable<SnapshotExtras['shards']> | null;
  usedMemoryBytes: { before: number | null; after: number | null };
}

/**
 * An external backend without per-instance URLs is scraped at its entry point (the contract
 * serves /metrics there); behind a load balancer that is one instance per scrape, so counters
 * only add up for a single-instance backend.
 */
export function metricsEndpoints(topology: Topology): Endpoint[] {
  return topology.instances.length ? topology.instances.map((i) => ({ id: i.id, url: i.url })) : [{ id: 'target', url: topology.routerUrl }];
}

export async function witnessBefore(topology: Topology, endpoints: readonly Endpoint[]): Promise<WitnessesBefore> {
  const scrapes = new Map<string, string | undefined>();
  await Promise.all(endpoints.map(async (i) => scrapes.set(i.id, await scrapeMetrics(i.url))));
  return { scrapes, usedMemoryBytes: topology.redis ? await usedMemoryBytes(topology.redis.url) : null };
}

/** `instancesSeen`: every instance the history's answers named (attributes an entry point's counters). */
export interface WitnessAfterOptions {
  storeSnapshot?: boolean;
  /** Write the audit trail to partition files here, split as the spilled history is, instead of holding it. */
  auditSpill?: { dir: string; partitions: number };
}

export async function witnessAfter(topology: Topology, endpoints: readonly Endpoint[], before: WitnessesBefore, instancesSeen: ReadonlySet<string>, opts: WitnessAfterOptions = {}): Promise<Witnesses> {
  const scrapes: MetricsScrape[] = [];
  for (const i of endpoints) {
    const after = await scrapeMetrics(i.url);
    scrapes.push({ instance: i.id, ...(before.scrapes.get(i.id) !== undefined ? { before: before.scrapes.get(i.id) } : {}), after: after ?? '' });
  }
  if (topology.instances.length === 0) {
    // Scraped at the entry point: attribute the counters to the one instance that answered, if one did.
    if (instancesSeen.size === 1 && scrapes[0]) scrapes[0].instance = [...instancesSeen][0]!;
  }
  const spill = opts.auditSpill ? auditSpill(opts.auditSpill.dir, opts.auditSpill.partitions) : undefined;
  let audit: AuditRecord[];
  try {
    audit = await readAuditLogs(topology.auditLogPaths, spill);
  } finally {
    spill?.close();
  }
  const auditParts = spill?.partitions();
  const snapshot = topology.redis && opts.storeSnapshot !== false ? await snapshotStore(topology.redis.url) : undefined;
  const store = snapshot?.sessions;
  const after = topology.redis ? await usedMemoryBytes(topology.redis.url) : null;
  return { scrapes, audit, ...(auditParts?.size ? { auditParts } : {}), store, keyMemory: snapshot?.extras.keyMemory ?? null, shards: snapshot?.extras.shards ?? null, usedMemoryBytes: { before: before.usedMemoryBytes, after } };
}

/**
 * Every instance's audit records, in the order of the paths. A log that does not exist is skipped
 * (an external backend, or an instance that never wrote one); one that exists and cannot be read
 * is an error that names it, not an audit quietly missing. The records are appended one by one:
 * spreading a stress run's log (hundreds of thousands of lines) into push() overflows the stack,
 * and that RangeError once made a whole audit vanish into "no audit was given". Given a spill, the
 * records go to its files as they are read, and none are returned.
 */
export async function readAuditLogs(paths: readonly string[], spill?: AuditSpill): Promise<AuditRecord[]> {
  const audit: AuditRecord[] = [];
  // Spilled records are parsed again when read back: interning them here would only hold the strings.
  const intern = spill ? (x: string) => x : interner();
  for (const p of paths) {
    // Line by line: a stress run's log may be longer than the longest string V8 can hold.
    try {
      for (const line of linesOf(p)) {
        const r = parseAuditLine(line, intern);
        if (r && spill) spill.add(r, line);
        else if (r) audit.push(r);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`could not read the audit log ${p}: ${(err as Error).message}`);
    }
  }
  return audit;
}
