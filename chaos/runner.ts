/**
 * Runs a fault plan against a run's targets: each fault applied at its time, verified, and undone
 * at its end — and every active fault undone when the run ends early (abort signal, stop(), an
 * error), each undo bounded by a timeout so a hung proxy API cannot stall the run. The actual
 * start and end of each fault are recorded for the report.
 *
 *   plan ─ validatePlan ─> schedule (seeded jitter) ─> per entry: wait ─ apply ─ verify ─ wait ─ undo
 *                                                                        └── abort: undo now ──┘
 *
 * It talks to proxies only through the Toxiproxy HTTP API, so the same plan runs against the
 * embedded server or a real Toxiproxy.
 */
import { addToxic, proxyDown, type ToxicFault } from './network-faults.ts';
import { durationMs, faultFamily, processTargets, STORE_TARGET, validatePlan, type Fault, type FaultPlan } from './plan.ts';
import { killProcess, restartProcess, rollingRestart, stopProcess, type AppliedFault, type FaultableProcess } from './process.ts';
import { freshSeed, seededRandom } from '../src/base/random.ts';
import { sleepUnlessAborted, systemClock, type Clock } from '../src/base/clock.ts';
import { storeFailover } from './failover.ts';
import { storeEviction, storeFlushAll, storeOutOfMemory, storePauseWrites, storeRestart, storeStall, type FaultableStore } from './store-faults.ts';
import { pgConnectionsExhausted, pgReadOnly, pgRestart, pgStall, pgTerminateBackends, type FaultablePostgres } from './pg-faults.ts';
import type { StoreKind } from './store-kinds.ts';
import { clusterFailover, clusterReshard, type FaultableCluster } from './cluster-faults.ts';

export interface PlanTargets {
  /** Toxiproxy API URL; default TOXIPROXY_URL from the environment. */
  toxiproxyUrl?: string;
  /** Proxy names plans may target. */
  proxies?: string[];
  /** Which store the run has (store faults it cannot have are refused). Default: postgres when `postgres` is given, else redis. */
  storeKind?: StoreKind;
  /** A Redis or Valkey store: its URL, and the server handle (needed for redis_restart). */
  redis?: { url: string; server?: FaultableStore };
  /** A Postgres store: its direct superuser URL, and the server handle (stall and store_restart need it). */
  postgres?: { url: string; server?: FaultablePostgres };
  /** The primary's async replica, which a `failover` fault promotes. */
  replica?: { url: string; server?: FaultableStore };
  processes?: Record<string, FaultableProcess>;
  /** A Redis or Valkey cluster: its nodes, for cluster_failover and reshard. */
  cluster?: FaultableCluster;
}

export interface RunPlanOptions {
  signal?: AbortSignal;
  /** Reads the schedule's time and makes every wait of the plan (fault start and end, failover's detection delay, a rolling restart's gaps). Default systemClock. */
  clock?: Clock;
  /** Bound on each undo, in ms. Default 5 000. */
  undoTimeoutMs?: number;
  /** Bound on each apply + verify, in ms (a rolling restart gets it once per process). Default 15 000 (a redis restart can take seconds). */
  applyTimeoutMs?: number;
}

export interface FaultTimelineEntry {
  id: string;
  target: string;
  fault: Fault;
  plannedStartMs: number;
  plannedEndMs: number;
  actualStartMs: number;
  actualEndMs: number;
  verified: boolean;
  /** What verification saw. */
  detail?: string;
  /** The fault could not be applied. */
  error?: string;
  undoError?: string;
}

export type FaultTimeline = FaultTimelineEntry[];

export interface PlanRun extends AsyncDisposable {
  readonly seed: number;
  readonly done: Promise<FaultTimeline>;
  /** Entries applied and not yet undone. */
  active(): string[];
  /** End the run now: undo everything active, skip what has not started. */
  stop(): Promise<FaultTimeline>;
}

export const DEFAULTS = { undoTimeoutMs: 5_000, applyTimeoutMs: 15_000 } as const;
/** Apply and undo bound of a reshard. */
export const RESHARD_BOUND_MS = 60_000;

/** On real timers whatever the clock: it bounds I/O that hangs in real time (a stuck proxy API). */
/** Resolves when `p` does or when `signal` aborts, whichever is first. */
function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Apply one fault to its target. */
async function applyFault(entryId: string, target: string, fault: Fault, faultDurationMs: number, targets: PlanTargets, signal: AbortSignal, clock: Clock): Promise<AppliedFault> {
  switch (faultFamily(fault.type)) {
    case 'network': {
      const url = targets.toxiproxyUrl ?? process.env.TOXIPROXY_URL;
      if (!url) throw new Error('no Toxiproxy URL: pass targets.toxiproxyUrl or set TOXIPROXY_URL');
      if (fault.type === 'down') return proxyDown(url, target);
      return addToxic(url, target, `stateproof_${entryId}`, fault as ToxicFault);
    }
    case 'store': {
      if (targets.postgres) return applyPostgresFault(fault, targets.postgres);
      if (targets.cluster) {
        if (fault.type === 'cluster_failover') return clusterFailover(targets.cluster, { shard: fault.shard, mode: fault.mode, clock });
        if (fault.type === 'reshard') return clusterReshard(targets.cluster, { slots: fault.slots, from: fault.from, to: fault.to });
        throw new Error(`a cluster cannot have a ${fault.type} fault`);
      }
      const redis = targets.redis;
      if (!redis) throw new Error(`no redis-server for target ${STORE_TARGET}`);
      switch (fault.type) {
        case 'oom':
          return storeOutOfMemory(redis.url, { maxmemory: fault.maxmemory });
        case 'evict':
          return storeEviction(redis.url, { maxmemory: fault.maxmemory, policy: fault.policy });
        case 'pause_writes':
          return storePauseWrites(redis.url, { durationMs: faultDurationMs });
        case 'stall':
          return storeStall(redis.url, { durationMs: faultDurationMs });
        case 'flushall':
          return storeFlushAll(redis.url);
        case 'redis_restart':
        case 'store_restart':
          if (!redis.server) throw new Error(`${fault.type} needs the redis-server handle (targets.redis.server)`);
          return storeRestart(redis.server, { hard: fault.hard });
        case 'failover': {
          if (!redis.server) throw new Error('failover kills the primary with kill -9 and needs its handle (targets.redis.server)');
          if (!targets.replica) throw new Error('failover needs the replica to promote (targets.replica)');
          const url = targets.toxiproxyUrl ?? process.env.TOXIPROXY_URL;
          if (!url) throw new Error('failover re-points proxies: pass targets.toxiproxyUrl or set TOXIPROXY_URL');
          return storeFailover({ primary: redis.server, replicaUrl: targets.replica.url, toxiproxyUrl: url, proxies: fault.proxies, detectionDelayMs: fault.detectionDelayMs, dropInFlight: fault.dropInFlight, signal, clock });
        }
      }
      break;
    }
    case 'process': {
      const procs = processTargets(target).map((n) => {
        const p = targets.processes?.[n];
        if (!p) throw new Error(`no process "${n}"`);
        return p;
      });
      const p = procs[0]!;
      switch (fault.type) {
        case 'kill9':
          return killProcess(p);
        case 'sigstop':
          return stopProcess(p);
        case 'restart':
          return restartProcess(p, { schemaVersion: fault.schemaVersion });
        case 'rolling_restart':
          return rollingRestart(procs, { schemaVersion: fault.schemaVersion, gapMs: fault.gapMs, signal, clock });
      }
    }
  }
  throw new Error(`fault type ${fault.type} has no implementation`);
}

async function applyPostgresFault(fault: Fault, pg: NonNullable<PlanTargets['postgres']>): Promise<AppliedFault> {
  const server = () => {
    if (!pg.server) throw new Error(`${fault.type} acts on the postgres processes and needs their handle (targets.postgres.server)`);
    return pg.server;
  };
  switch (fault.type) {
    case 'terminate_backends':
      return pgTerminateBackends(pg.url);
    case 'pause_writes':
      return pgReadOnly(pg.url);
    case 'stall':
      return pgStall(server());
    case 'connections_exhausted':
      return pgConnectionsExhausted(pg.url);
    case 'store_restart':
      return pgRestart(server(), { hard: fault.hard });
  }
  // validatePlan refuses these first; a caller that skipped it gets the same words.
  throw new Error(`postgres cannot have a ${fault.type} fault`);
}

/**
 * Validate `plan` (throws UsageError naming the bad entry, before anything starts), then run it.
 * `done` never rejects for a fault that failed: that is recorded in its entry.
 */
export function runPlan(plan: unknown, targets: PlanTargets, opts: RunPlanOptions = {}): PlanRun {
  const valid: FaultPlan = validatePlan(plan, {
    proxies: targets.proxies,
    store: targets.redis !== undefined || targets.postgres !== undefined || targets.cluster !== undefined,
    storeKind: targets.storeKind ?? (targets.postgres ? 'postgres' : targets.cluster ? 'redis-cluster' : 'redis'),
    replica: targets.replica !== undefined,
    processes: Object.keys(targets.processes ?? {}),
  });
  const clock = opts.clock ?? systemClock;
  const undoTimeoutMs = opts.undoTimeoutMs ?? DEFAULTS.undoTimeoutMs;
  const applyTimeoutMs = opts.applyTimeoutMs ?? DEFAULTS.applyTimeoutMs;
  const seed = valid.seed ?? freshSeed();
  const random = seededRandom(seed);
  const stopper = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopper.signal]) : stopper.signal;
  const t0 = clock.now();
  const active = new Set<string>();
  // Process faults on one process run one after another: a deploy that overruns its window (slow
  // starts on a loaded machine) delays the next one on the same instances, as a deploy queue does,
  // instead of two restarting one process at once. Each settles when that fault is over.
  const busy = new Map<string, { id: string; over: Promise<void> }>();

  const schedule = valid.faults.map((entry, i) => {
    const offset = entry.jitter ? Math.floor(random() * durationMs(entry.jitter)) : 0;
    const start = t0 + durationMs(entry.at) + offset;
    return { entry, id: entry.id ?? `f${i}`, start, end: start + durationMs(entry.duration) };
  });

  const runOne = async ({ entry, id, start, end }: (typeof schedule)[number]): Promise<FaultTimelineEntry | undefined> => {
    // An abort ends the wait early; what runs next looks at the signal itself.
    await sleepUnlessAborted(clock, start - clock.now(), signal);
    if (signal.aborted) return undefined;
    const procs = faultFamily(entry.fault.type) === 'process' ? processTargets(entry.target) : [];
    const ahead = procs.map((n) => busy.get(n)).filter((b): b is NonNullable<typeof b> => b !== undefined);
    let release = () => {};
    let applying: Promise<unknown> = Promise.resolve();
    const over = new Promise<void>((r) => (release = r));
    const turn = Promise.all(ahead.map((b) => b.over)).then(() => {});
    for (const n of procs) busy.set(n, { id, over: turn.then(() => over) });
    try {
      if (ahead.length) await untilAborted(turn, signal);
      if (signal.aborted) return undefined;
      const waitedFor = [...new Set(ahead.map((b) => b.id))];
      const late = ahead.length && clock.now() > start ? `started ${clock.now() - start} ms late: waited for ${waitedFor.join(', ')} to finish on ${procs.join(', ')}` : undefined;
      return await applyAndUndo({ entry, id, start, end }, late, (p) => (applying = p.catch(() => {})));
    } finally {
      // An apply that outlived its timeout still holds its processes until it lands.
      void applying.then(release);
    }
  };

  const applyAndUndo = async ({ entry, id, start, end }: (typeof schedule)[number], late: string | undefined, onApplying: (p: Promise<AppliedFault>) => void): Promise<FaultTimelineEntry> => {
    const record: FaultTimelineEntry = { id, target: entry.target, fault: entry.fault, plannedStartMs: start, plannedEndMs: end, actualStartMs: clock.now(), actualEndMs: 0, verified: false };
    if (late) record.detail = late;
    let applied: AppliedFault | undefined;
    active.add(id);
    const applying = applyFault(id, entry.target, entry.fault, end - start, targets, signal, clock);
    onApplying(applying);
    try {
      // A rolling restart is one restart per process, each of which may take the whole budget; moving
      // hundreds of slots is real work (Valkey 8 waits for replicas on every SETSLOT): its own bound.
      const budgetMs =
        entry.fault.type === 'rolling_restart' ? applyTimeoutMs * processTargets(entry.target).length : entry.fault.type === 'reshard' ? Math.max(applyTimeoutMs, RESHARD_BOUND_MS) : applyTimeoutMs;
      applied = await withTimeout(applying, budgetMs, `applying ${id}`);
      record.verified = applied.verified;
      if (applied.detail) record.detail = record.detail ? `${record.detail}; ${applied.detail}` : applied.detail;
    } catch (e) {
      record.error = message(e);
      // A late apply must still be undone when it lands.
      applying.then((late) => late.undo().catch(() => {}), () => {});
    }
    await sleepUnlessAborted(clock, end - clock.now(), signal);
    if (applied) {
      try {
        await withTimeout(applied.undo(), Math.max(undoTimeoutMs, applied.undoTimeoutMs ?? 0), `undoing ${id}`);
      } catch (e) {
        record.undoError = message(e);
      }
    }
    active.delete(id);
    record.actualEndMs = clock.now();
    return record;
  };

  const done = Promise.all(schedule.map((s) => runOne(s).catch((e): FaultTimelineEntry => ({ id: s.id, target: s.entry.target, fault: s.entry.fault, plannedStartMs: s.start, plannedEndMs: s.end, actualStartMs: clock.now(), actualEndMs: clock.now(), verified: false, error: message(e) })))).then(
    (entries) => entries.filter((e): e is FaultTimelineEntry => e !== undefined).sort((a, b) => a.actualStartMs - b.actualStartMs),
  );

  const run: PlanRun = {
    seed,
    done,
    active: () => [...active],
    stop() {
      stopper.abort();
      return done;
    },
    [Symbol.asyncDispose]: async () => {
      await run.stop();
    },
  };
  return run;
}
