/**
 * From the runs of every pair to one scorecard: each figure taken from a run's result.json (and,
 * for growth, its history.json), never recomputed from anything else.
 *
 *   pair × scenario runs ──▶ invariant cells (one status per pair, across the scenarios that judge it)
 *                        ──▶ fault cells (blast radius, p99 during, time to recover: result.faults)
 *                        ──▶ counts (anomalies of no-lost-writes, no-duplicates, no-divergence*)
 *                        ──▶ bytes per session by turn and its slope (long-session)
 *   throughput run ──────▶ turns/s without faults
 *
 * A cell across scenarios: violated if any run violated it; else no evidence if any run had none
 * (that fails a run, so it is not hidden behind another scenario's pass); else held if any run
 * held it; else waived; else not applicable; else not run.
 */
import path from 'node:path';
import { anomalyCount as anomaliesIn } from '../check/cap-anomalies.ts';
import { projectGrowth } from '../check/growth-projection.ts';
import type { HistoryEntry } from '../record/history.ts';
import { bytesByTurn } from '../report/derive/state-health.ts';
import { faultLabel } from '../report/format.ts';
import type { Environment, Invariant, RunResult } from '../report/result-schema.ts';
import { REFERENCE_BACKEND } from '../backend/adapters.ts';
import { pairId, type Pair, type SkippedPair } from './pairs.ts';
import { reproFor } from './repros.ts';
import { SCORECARD_KIND, SCORECARD_SCHEMA_VERSION, ScorecardSchema, type CellStatus, type FaultCell, type InvariantCell, type Scorecard, type ScorecardPair } from './schema.ts';

export interface ScenarioRun {
  scenario: string;
  /** The run's directory (absolute); absent when it never started. */
  dir?: string;
  result?: RunResult;
  /** history.json of the run, where a figure needs it (long-session's growth). */
  history?: readonly HistoryEntry[];
  error?: string;
  /** Not run because the backend cannot run this scenario at all (it needs the reference service's internals): its invariants are not applicable, with this reason. */
  refused?: string;
  wallMs?: number;
}

export interface PairRuns {
  pair: Pair;
  runs: ScenarioRun[];
  throughput?: ScenarioRun;
}

export interface ScorecardMeta {
  command: string[];
  profile: 'ci' | 'full';
  scenarios: string[];
  createdAt: string;
  /** Where scorecard.* are written: every href is relative to it. */
  outDir: string;
  /** The repository root, for links to the reproductions. */
  repoRoot: string;
  environment: Environment;
  loadAverage?: { start: number; end: number };
  stateproofVersion: string;
  skipped: SkippedPair[];
  interrupted: boolean;
  wallMs: number;
  throughputMethod: string | null;
  notes?: string[];
}

const ORDER: readonly CellStatus[] = ['violated', 'no-evidence', 'held', 'waived', 'not-applicable', 'not-run'];
const LOST = ['no-lost-writes'];
const DUPLICATES = ['no-duplicates'];
const DIVERGENCES = ['no-divergence', 'no-divergence-after-failover'];
export const GROWTH_SCENARIO = 'long-session';

const posix = (p: string) => p.split(path.sep).join('/');

function statusOf(i: Invariant): CellStatus {
  return i.status ?? (i.holds ? 'held' : 'violated');
}

export function buildScorecard(pairs: readonly PairRuns[], meta: ScorecardMeta): Scorecard {
  const href = (dir: string, anchor = '') => `${posix(path.relative(meta.outDir, dir)) || '.'}/index.html${anchor}`;
  const invariantOrder: Array<{ name: string; description: string }> = [];
  for (const p of pairs) for (const r of p.runs) for (const i of r.result?.invariants ?? []) if (!invariantOrder.some((x) => x.name === i.name)) invariantOrder.push({ name: i.name, description: i.description });

  // Which invariants each scenario judges, from every run that happened (a scenario's spec is the same for every pair).
  const judgedBy = new Map<string, Set<string>>();
  for (const p of pairs) for (const r of p.runs) for (const i of r.result?.invariants ?? []) (judgedBy.get(r.scenario) ?? judgedBy.set(r.scenario, new Set()).get(r.scenario)!).add(i.name);
  const invariants = invariantOrder.map(({ name, description }) => ({
    name,
    description,
    cells: Object.fromEntries(pairs.map((p) => [pairId(p.pair), invariantCell(p, name, href, meta, (s) => judgedBy.get(s)?.has(name) ?? false)])),
  }));

  const faultKeys: Array<{ scenario: string; faultId: string; target: string }> = [];
  for (const p of pairs) for (const r of p.runs) for (const t of r.result?.timeline ?? []) if (!faultKeys.some((k) => k.scenario === r.scenario && k.faultId === t.id)) faultKeys.push({ scenario: r.scenario, faultId: t.id, target: t.target });
  const faults = faultKeys.map((k) => ({
    ...k,
    cells: Object.fromEntries(
      pairs.flatMap((p) => {
        const cell = faultCell(p.runs.find((r) => r.scenario === k.scenario), k.faultId, href);
        return cell ? [[pairId(p.pair), cell] as const] : [];
      }),
    ),
  }));

  const scorecard: Scorecard = {
    kind: SCORECARD_KIND,
    schemaVersion: SCORECARD_SCHEMA_VERSION,
    createdAt: meta.createdAt,
    command: meta.command,
    profile: meta.profile,
    scenarios: meta.scenarios,
    machine: {
      os: meta.environment.os,
      arch: meta.environment.arch,
      cpus: meta.environment.cpus,
      ...(meta.environment.cpuModel ? { cpuModel: meta.environment.cpuModel } : {}),
      memoryBytes: meta.environment.memoryBytes,
      node: meta.environment.node,
      ...(meta.loadAverage ? { loadAverage: meta.loadAverage } : {}),
    },
    stateproof: { version: meta.stateproofVersion, gitCommit: meta.environment.gitCommit },
    pairs: pairs.map((p) => pairEntry(p, href)),
    skipped: meta.skipped.map((s) => ({ backend: s.backend, store: s.store, reason: s.reason })),
    invariants,
    faults,
    throughputMethod: meta.throughputMethod,
    interrupted: meta.interrupted,
    wallMs: meta.wallMs,
    notes: meta.notes ?? [],
  };
  return ScorecardSchema.parse(scorecard);
}

function invariantCell(p: PairRuns, name: string, href: (dir: string, anchor?: string) => string, meta: ScorecardMeta, judges: (scenario: string) => boolean): InvariantCell {
  const judged = p.runs.flatMap((r) => {
    const inv = r.result?.invariants.find((i) => i.name === name);
    return inv && r.result && r.dir ? [{ run: r, result: r.result, dir: r.dir, inv, status: statusOf(inv) }] : [];
  });
  // A scenario that judges the invariant for another pair but did not run for this one.
  const missing = p.runs.filter((r) => !r.result && judges(r.scenario));
  const scenarios = [
    ...judged.map((j) => ({ scenario: j.run.scenario, status: j.status, anomalies: j.status === 'violated' ? anomaliesIn(j.inv.anomalies) : 0, href: href(j.dir) })),
    ...missing.map((r) => ({ scenario: r.scenario, status: r.refused ? ('not-applicable' as const) : ('not-run' as const), anomalies: 0 })),
  ];
  const status = ORDER.find((s) => scenarios.some((x) => x.status === s)) ?? 'not-run';
  const deciding = judged.find((j) => j.status === status);
  const cell: InvariantCell = { status, count: 0, scenarios };
  if (deciding) cell.href = href(deciding.dir);
  if (status === 'violated') {
    const violating = judged.filter((j) => j.status === 'violated');
    // A checker lists at most 100 anomalies and counts the rest in one more: the count is all of them.
    cell.count = violating.reduce((n, j) => n + anomaliesIn(j.inv.anomalies), 0);
    const first = violating.find((j) => j.inv.anomalies.some((a) => a.ops.length > 0));
    const anomaly = first?.inv.anomalies.find((a) => a.ops.length > 0) ?? violating[0]?.inv.anomalies[0];
    if (anomaly) cell.evidence = anomaly.message;
    if (first && anomaly?.ops[0] !== undefined) {
      const id = anomaly.ops[0];
      const op = first.result.provingOps.find((o) => o.id === id);
      const text = op ? `#${id} ${op.op} ${op.session}${op.turnId ? ` turn ${op.turnId}` : ''} → ${op.status || 'no answer'} ${op.outcome}` : `#${id}`;
      cell.firstOp = { id, scenario: first.run.scenario, text, href: href(first.dir, `#op-${id}`) };
      cell.href = href(first.dir);
    }
    const repro = p.pair.backend === REFERENCE_BACKEND ? undefined : reproFor(p.pair.backend, name);
    if (repro) cell.repro = { ...repro, href: posix(path.relative(meta.outDir, path.join(meta.repoRoot, repro.file))) };
    // A library's violation is its finding only once shown without the harness; until then the
    // scorecard says it is the harness's measurement alone.
    else if (p.pair.backend !== REFERENCE_BACKEND) cell.unreproduced = true;
  } else if (status === 'not-applicable' || status === 'waived') {
    const reasons = [
      ...judged.filter((j) => j.status === status).map((j) => j.inv.reason),
      ...(status === 'not-applicable' ? missing.filter((r) => r.refused).map((r) => `${r.scenario} cannot run on ${p.pair.backend}: ${r.refused}`) : []),
    ];
    cell.reason = [...new Set(reasons.filter((r): r is string => !!r))].join('; ') || undefined;
  } else if (status === 'no-evidence') {
    cell.reason = judged.find((j) => j.status === 'no-evidence')?.inv.evidence;
  } else if (status === 'held') {
    cell.evidence = judged.filter((j) => j.status === 'held').map((j) => `${j.run.scenario}: ${j.inv.evidence ?? 'held'}`).join('; ');
  } else if (status === 'not-run') {
    cell.reason = missing.filter((r) => !r.refused).map((r) => `${r.scenario}: ${r.error ?? 'not run'}`).join('; ') || 'no scenario of this scorecard judges it for this pair';
  }
  if (cell.reason === undefined) delete cell.reason;
  return cell;
}

function faultCell(run: ScenarioRun | undefined, faultId: string, href: (dir: string) => string): FaultCell | undefined {
  const r = run?.result;
  const f = r?.faults.find((x) => x.faultId === faultId);
  const t = r?.timeline.find((x) => x.id === faultId);
  if (!r || !f || !t || !run?.dir) return undefined;
  return {
    href: href(run.dir),
    fault: faultLabel(t.fault),
    ops: f.ops,
    failed: f.failed,
    unknown: f.unknown,
    refused: f.refused ?? null,
    degraded: f.degraded,
    errorRate: f.errorRate,
    affectedSessions: f.affectedSessions,
    affectedInstances: f.affectedInstances,
    p99BeforeMs: f.p99BeforeMs,
    p99DuringMs: f.p99DuringMs,
    timeToRecoverMs: f.timeToRecoverMs,
    recovered: f.recovered,
    verified: t.verified,
  };
}

function anomalyCount(runs: readonly ScenarioRun[], names: readonly string[]): number | null {
  let judged = false;
  let n = 0;
  for (const r of runs) {
    for (const i of r.result?.invariants ?? []) {
      if (!names.includes(i.name)) continue;
      const s = statusOf(i);
      if (s === 'held') judged = true;
      if (s === 'violated') {
        judged = true;
        n += anomaliesIn(i.anomalies);
      }
    }
  }
  return judged ? n : null;
}

function pairEntry(p: PairRuns, href: (dir: string) => string): ScorecardPair {
  const any = p.runs.find((r) => r.result)?.result ?? p.throughput?.result;
  const store = any?.topology.details?.store as { version?: string } | undefined;
  return {
    id: pairId(p.pair),
    backend: p.pair.backend,
    store: p.pair.store,
    versions: { ...any?.environment.backend?.versions },
    storeVersion: store?.version ?? any?.environment.redis ?? null,
    runs: p.runs.map((r) => ({
      scenario: r.scenario,
      ...(r.result ? { runId: r.result.runId, pass: r.result.verdict.pass } : {}),
      ...(r.dir && r.result ? { href: href(r.dir) } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.refused ? { refused: r.refused } : {}),
      ...(r.wallMs !== undefined ? { wallMs: r.wallMs } : {}),
    })),
    counts: { lostWrites: anomalyCount(p.runs, LOST), duplicates: anomalyCount(p.runs, DUPLICATES), divergences: anomalyCount(p.runs, DIVERGENCES) },
    bytes: bytesOf(p.runs.find((r) => r.scenario === GROWTH_SCENARIO), href),
    throughput: p.throughput ? throughputOf(p.throughput, href) : null,
  };
}

function bytesOf(run: ScenarioRun | undefined, href: (dir: string) => string): ScorecardPair['bytes'] {
  const r = run?.result;
  if (!r || !run?.dir) return null;
  const spec = r.config.spec as { check?: { windowTurns?: number } } | null | undefined;
  const windowTurns = r.capacity?.settings.windowTurns ?? spec?.check?.windowTurns ?? 10;
  const byTurn = run.history ? bytesByTurn(run.history) : (r.capacity?.bytesByTurn ?? []);
  const last = byTurn[byTurn.length - 1];
  if (!last) return null;
  const growth = run.history ? projectGrowth(run.history, { windowTurns }) : undefined;
  return {
    atTurns: last.toTurn,
    p50Bytes: last.p50Bytes,
    maxBytes: last.maxBytes,
    slopeBytesPerTurn: growth && growth.sessionsMeasured > 0 ? growth.medianSlopeBytesPerTurn : null,
    sessionsMeasured: growth?.sessionsMeasured ?? 0,
    byTurn,
    source: run.history
      ? `the bytes each read reported (history.json of ${r.runId}); slope: median over sessions of the Theil–Sen slope once the ${windowTurns}-turn window is full`
      : `result.json capacity.bytesByTurn of ${r.runId} (no history.json: no slope)`,
    href: href(run.dir),
  };
}

/** Acknowledged appends per second over the run's whole seconds, the first and last (ramp-up, drain) left out. */
export function throughputOf(run: ScenarioRun, href: (dir: string) => string, connections = THROUGHPUT_CONNECTIONS): NonNullable<ScorecardPair['throughput']> {
  const r = run.result;
  if (!r || !run.dir) return { turnsPerSec: null, connections, steadySeconds: 0, errors: 0, pass: false, reasons: [], error: run.refused ?? run.error ?? 'not run' };
  const { intervalMs, points } = r.metrics.series;
  const active = points.filter((p) => p.requests > 0);
  const steady = active.length > 2 ? active.slice(1, -1) : active;
  const seconds = (steady.length * intervalMs) / 1000;
  const ok = steady.reduce((n, p) => n + p.ok, 0);
  return {
    turnsPerSec: seconds > 0 ? ok / seconds : null,
    connections,
    steadySeconds: Math.round(seconds),
    errors: r.metrics.totals.fail + r.metrics.totals.unknown,
    pass: r.verdict.pass,
    reasons: r.verdict.reasons,
    href: href(run.dir),
  };
}

export const THROUGHPUT_CONNECTIONS = 64;

