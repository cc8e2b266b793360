/**
 * `npm run bench check`: checker time and peak RSS for seeded histories of 100 k, 1 M and 5 M
 * operations (bench/seeded-history.ts: a correct backend under a cross-instance-like mix).
 *
 * Each size runs in a child process of its own, so its peak RSS (process.resourceUsage().maxRSS)
 * is that size's alone. The child records the history, then checks it twice, as the
 * cross-instance and the long-session scenarios do (their invariants, with a store snapshot and an
 * audit trail; metrics-agree is left out, there is no /metrics text). Two ways, side by side:
 *   memory   the run's history log (historyLog) and checkHistory over the whole of it;
 *   spilled  the spilling log (history-spill.ts) and the audit trail (audit-spill.ts) on disk
 *            from the first entry, and checkPartitioned reading one partition of each at a time
 *            (as many as keep a partition near PARTITION_LINES entries).
 * Medians over rounds: the machine is shared. The 5 M / 1 M ratio is taken in each round (its two
 * sizes run back to back) and the median of those is the verdict.
 *
 *   STATEPROOF_BENCH_SIZES=100000,1000000   sizes to run (default 100000,1000000,5000000)
 *   STATEPROOF_BENCH_ROUNDS=3               rounds per size (default 3)
 *   STATEPROOF_BENCH_MODES=spilled          ways to run (default memory,spilled)
 *   STATEPROOF_BENCH_PER_INVARIANT=1        also time each invariant in a checkHistory call of its
 *                                           own, with the garbage collector's share (where growth is)
 */
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkHistory, type CheckOptions, type InvariantName } from '../src/check/index.ts';
import { checkPartitionedWith } from '../src/check/partitioned-check.ts';
import { historyLog } from '../src/run/history-log.ts';
import { SPILL_DEFAULTS, spillingHistoryLog, type SpillingHistoryLog } from '../src/run/history-spill.ts';
import { auditSpill } from '../src/run/audit-spill.ts';
import { seededHistory, type SeededWitnesses } from './seeded-history.ts';

const CROSS_INSTANCE: InvariantName[] = [
  'no-lost-writes',
  'no-phantom-writes',
  'no-duplicates',
  'no-divergence',
  'read-your-writes',
  'monotonic-reads',
  'monotonic-writes',
  'writes-follow-reads',
  'bounded-staleness',
  'no-store-5xx',
  'degradation-flagged',
  'audit-agrees',
  'store-agrees',
];
const LONG_SESSION: InvariantName[] = ['bytes-within-cap', 'latency-flat', 'ttl-set', 'idle-expired', 'oversized-rejected', 'pinned-facts-kept', 'no-lost-writes', 'no-duplicates'];

interface ChildReport {
  entries: number;
  /** Partitions the spilled history was checked in (1 in memory). */
  partitions: number;
  generateMs: number;
  crossInstanceMs: number;
  longSessionMs: number;
  /** CPU time (user + system) of both checks: on a shared machine, wall time measures the neighbours too. */
  checkCpuMs: number;
  /** RSS once the history is recorded, before any check. */
  recordedRssMb: number;
  peakRssMb: number;
  failed: string[];
  /** STATEPROOF_BENCH_PER_INVARIANT: each invariant alone (wall ms, of it in the garbage collector). */
  perInvariant?: { name: string; ms: number; gcMs: number }[];
}

type Mode = 'memory' | 'spilled';

async function child(entries: number, mode: Mode): Promise<ChildReport> {
  let t = performance.now();
  const dir = mode === 'spilled' ? fs.mkdtempSync(path.join(os.tmpdir(), 'stateproof-bench-spill-')) : '';
  const log = mode === 'spilled' ? spillingHistoryLog({ dir, spillAfter: 1 }) : historyLog();
  const spill = mode === 'spilled' ? auditSpill(path.join(dir, 'audit'), SPILL_DEFAULTS.partitions) : undefined;
  const { store, audit: held } = seededHistory({ entries, ...(spill ? { addAudit: (r) => spill.add(r) } : {}) }, (e) => log.add(e));
  // The history is read as partitions of about PARTITION_LINES entries, its audit trail as the same.
  const parts = mode === 'spilled' ? (log as SpillingHistoryLog).partitions() : undefined;
  const auditParts = spill?.partitions(parts!.count);
  const generateMs = performance.now() - t;
  const recordedRssMb = process.memoryUsage().rss / 2 ** 20;
  const check =
    mode === 'spilled'
      ? (o: CheckOptions, withAudit = false) => checkPartitionedWith(parts!, o, withAudit ? { auditParts: auditParts! } : {}).report
      : (o: CheckOptions, withAudit = false) => checkHistory(log.entries, withAudit ? { ...o, audit: held } : o);
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const cross = check({ invariants: CROSS_INSTANCE, windowTurns: 10, stalenessBoundMs: 1_000, store }, true);
  const crossInstanceMs = performance.now() - t;
  t = performance.now();
  const long = check({ invariants: LONG_SESSION, windowTurns: 10, maxStateBytes: 51_200, sessionTtlMs: 5_000, store });
  const longSessionMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const checkCpuMs = (cpu.user + cpu.system) / 1000;
  if (mode === 'spilled') {
    (log as SpillingHistoryLog).close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // A correct history: anything found is the bench's own bug (or a checker's), and it says so.
  const failed = [...cross.invariants, ...long.invariants].filter((i) => !i.holds).map((i) => `${i.name}: ${i.anomalies[0]?.message}`);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const perInvariant = process.env.STATEPROOF_BENCH_PER_INVARIANT === '1' && mode === 'memory' ? await timeEach(log.entries, { store, audit: held }) : undefined;
  return { entries: cross.stats.entries, partitions: parts?.count ?? 1, generateMs, crossInstanceMs, longSessionMs, checkCpuMs, recordedRssMb, peakRssMb, failed, perInvariant };
}

/**
 * Each invariant in a call of its own: every call also indexes the sessions and measures lost
 * writes and staleness (its stats), so a row is that shared base plus the invariant's own work.
 */
async function timeEach(entries: Parameters<typeof checkHistory>[0], witnesses: SeededWitnesses): Promise<NonNullable<ChildReport['perInvariant']>> {
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  const out: NonNullable<ChildReport['perInvariant']> = [];
  for (const name of [...new Set([...CROSS_INSTANCE, ...LONG_SESSION])]) {
    // The collector's entries reach the observer on a later turn of the event loop: one turn
    // before the clock starts drains the last call's, one after it collects this call's.
    await new Promise((r) => setTimeout(r, 20));
    gcMs = 0;
    const t = performance.now();
    checkHistory(entries, { invariants: [name], windowTurns: 10, stalenessBoundMs: 1_000, maxStateBytes: 51_200, sessionTtlMs: 5_000, ...witnesses });
    const ms = performance.now() - t;
    await new Promise((r) => setTimeout(r, 20));
    out.push({ name, ms, gcMs });
  }
  obs.disconnect();
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function main(): void {
  const sizes = (process.env.STATEPROOF_BENCH_SIZES ?? '100000,1000000,5000000').split(',').map(Number);
  const rounds = Number(process.env.STATEPROOF_BENCH_ROUNDS ?? 3);
  const modes = (process.env.STATEPROOF_BENCH_MODES ?? 'memory,spilled').split(',') as Mode[];
  for (const m of modes) if (m !== 'memory' && m !== 'spilled') throw new Error(`STATEPROOF_BENCH_MODES: unknown mode '${m}' (memory, spilled)`);
  const runs = new Map<string, ChildReport[]>();
  const key = (mode: Mode, n: number) => `${mode} ${n}`;
  for (let round = 0; round < rounds; round++) {
    for (const n of sizes) {
      // Alternated within a round, so both ways meet the same neighbours.
      for (const mode of modes) {
        // A heap big enough for 5 M in memory: the figure wanted is what it takes, not where the default limit is.
        const r = spawnSync(process.execPath, ['--max-old-space-size=12288', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), mode], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) {
          console.error(`check bench: the ${n}-operation ${mode} child failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-2000)}`);
          process.exit(1);
        }
        const rep = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildReport;
        if (rep.failed.length) console.log(`  ${n} ${mode}: a correct history was judged wrong: ${rep.failed.slice(0, 3).join('; ')}`);
        runs.set(key(mode, n), [...(runs.get(key(mode, n)) ?? []), rep]);
        console.log(`  round ${round + 1}, ${n.toLocaleString('en')} ops, ${mode}${mode === 'spilled' ? ` (${rep.partitions} partitions)` : ''}: check ${((rep.crossInstanceMs + rep.longSessionMs) / 1000).toFixed(1)} s (CPU ${(rep.checkCpuMs / 1000).toFixed(1)} s), peak RSS ${rep.peakRssMb.toFixed(0)} MB`);
      }
    }
  }
  console.log(`\nmedians of ${rounds} round(s), each size and way in its own process (checks exclude generating the history):`);
  console.log('operations  way       cross-instance   long-session   check total     check CPU   RSS recorded   peak RSS');
  const total = (mode: Mode, n: number) => median(runs.get(key(mode, n))!.map((r) => r.crossInstanceMs + r.longSessionMs));
  const cpu = (mode: Mode, n: number) => median(runs.get(key(mode, n))!.map((r) => r.checkCpuMs));
  const peak = (mode: Mode, n: number) => median(runs.get(key(mode, n))!.map((r) => r.peakRssMb));
  for (const n of sizes) {
    for (const mode of modes) {
      const rs = runs.get(key(mode, n))!;
      const cells = [
        n.toLocaleString('en').padStart(10),
        mode.padEnd(8),
        `${(median(rs.map((r) => r.crossInstanceMs)) / 1000).toFixed(1)} s`.padStart(15),
        `${(median(rs.map((r) => r.longSessionMs)) / 1000).toFixed(1)} s`.padStart(14),
        `${(total(mode, n) / 1000).toFixed(1)} s`.padStart(13),
        `${(cpu(mode, n) / 1000).toFixed(1)} s`.padStart(13),
        `${median(rs.map((r) => r.recordedRssMb)).toFixed(0)} MB`.padStart(14),
        `${peak(mode, n).toFixed(0)} MB`.padStart(10),
      ];
      console.log(cells.join(' '));
    }
    if (modes.length === 2) console.log(`${''.padStart(10)}  spilled / memory: time ${(total('spilled', n) / total('memory', n)).toFixed(2)}x, peak RSS ${(peak('spilled', n) / peak('memory', n)).toFixed(2)}x`);
  }
  const first = runs.get(key('memory', sizes[0]!))?.[0];
  if (first?.perInvariant) {
    console.log('\neach invariant alone, in memory (medians; "gc" is the part spent in the garbage collector):');
    const names = first.perInvariant.map((r) => r.name);
    console.log(['invariant'.padEnd(22), ...sizes.map((n) => `${n.toLocaleString('en')} ops (gc)`.padStart(22))].join(''));
    for (const name of names) {
      const cells = sizes.map((n) => {
        const rows = runs.get(key('memory', n))!.map((r) => r.perInvariant!.find((x) => x.name === name)!);
        return `${(median(rows.map((x) => x.ms)) / 1000).toFixed(2)} s (${(median(rows.map((x) => x.gcMs)) / 1000).toFixed(2)} s)`.padStart(22);
      });
      console.log([name.padEnd(22), ...cells].join(''));
    }
  }
  for (const mode of modes) {
    console.log(`\n${mode}:`);
    if (sizes.includes(1_000_000)) {
      const sec = total(mode, 1_000_000) / 1000;
      const rss = peak(mode, 1_000_000);
      console.log(`  1 M target (<= 30 s, <= 2048 MB peak RSS): ${sec.toFixed(1)} s, ${rss.toFixed(0)} MB: ${sec <= 30 && rss <= 2048 ? 'met' : 'NOT met'}`);
    }
    if (sizes.includes(1_000_000) && sizes.includes(5_000_000)) {
      // Paired by round: a round's two sizes run back to back and meet the same neighbours, where
      // the medians of each size may come from different rounds.
      const small = runs.get(key(mode, 1_000_000))!;
      const large = runs.get(key(mode, 5_000_000))!;
      const walls = large.map((r, i) => (r.crossInstanceMs + r.longSessionMs) / (small[i]!.crossInstanceMs + small[i]!.longSessionMs));
      const cpus = large.map((r, i) => r.checkCpuMs / small[i]!.checkCpuMs);
      const ratio = median(walls);
      const cpuRatio = median(cpus);
      const nlogn = (5e6 * Math.log(5e6)) / (1e6 * Math.log(1e6));
      const verdict = (r: number) => (r <= nlogn ? 'no worse than n log n' : 'WORSE than n log n');
      const each = walls.map((w, i) => `${w.toFixed(2)}x/${cpus[i]!.toFixed(2)}x`).join(', ');
      console.log(`  time 5 M / 1 M, median of the rounds' ratios: ${ratio.toFixed(2)}x wall, ${cpuRatio.toFixed(2)}x CPU (linear 5.00x, n log n ${nlogn.toFixed(2)}x): wall ${verdict(ratio)}, CPU ${verdict(cpuRatio)}; peak RSS ${(peak(mode, 5_000_000) / peak(mode, 1_000_000)).toFixed(2)}x`);
      console.log(`  by round (wall/CPU): ${each}`);
    }
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) console.log(JSON.stringify(await child(Number(process.argv[at + 1]), (process.argv[at + 2] ?? 'memory') as Mode)));
else main();
