/**
 * Growth projection: once a session's window is full, its state should stop growing (older turns
 * fold into a bounded summary). This measures bytes per session as a function of turns from the
 * sizes reads report, fits the slope after the window is full, and flags a session that keeps
 * growing with the turn at which it would reach the declared cap — so a short CI run sees a
 * 5 KB session on its way to 2 MB long before any session gets there.
 *
 *   reads (turnCount, bytes) ──window full?──▶ points ──Theil–Sen slope──▶ B/turn ──▶ turn at cap
 *
 * Growth counts from 16 B/turn that adds a quarter of the state over the turns measured: less is
 * drift (ids gaining digits, a pinned fact joining the summary), a real leak adds about a turn.
 *
 * Theil–Sen (the median of pairwise slopes) is used rather than least squares so that the odd
 * step — a pinned fact joining the summary, a long message — does not read as steady growth.
 */
import type { HistoryEntry } from '../record/history.ts';
import { sessionKey } from './sessions.ts';
import type { Anomaly } from './types.ts';

export interface GrowthOptions {
  /** Turns the backend keeps in its window (declared or default). */
  windowTurns: number;
  /** The declared per-session cap in bytes; undefined when none is declared. */
  maxStateBytes?: number;
}

export interface SessionGrowth {
  session: string;
  fromTurn: number;
  toTurn: number;
  bytesAtEnd: number;
  slopeBytesPerTurn: number;
  /** Turn at which the fitted line reaches the cap; undefined without a cap or growth. */
  capAtTurn?: number;
}

export interface GrowthResult {
  anomalies: Anomaly[];
  /** Sessions with enough reads past a full window to fit a slope (the evidence). */
  sessionsMeasured: number;
  /** Median slope over measured sessions, B/turn (0 when none measured). */
  medianSlopeBytesPerTurn: number;
  growing: SessionGrowth[];
}

const MAX_POINTS = 64;
const MIN_POINTS = 4;
const MIN_SLOPE_BYTES_PER_TURN = 16;

export function projectGrowth(history: readonly HistoryEntry[], opts: GrowthOptions): GrowthResult {
  const points = new Map<string, Array<{ turn: number; bytes: number; id: number }>>();
  for (const e of history) {
    if (e.op !== 'read' || e.outcome !== 'ok' || e.status !== 200 || e.mode === 'degraded') continue;
    if (e.bytes === undefined || e.turnCount === undefined || e.turnCount <= opts.windowTurns) continue;
    const k = sessionKey(e);
    let p = points.get(k);
    if (!p) points.set(k, (p = []));
    p.push({ turn: e.turnCount, bytes: e.bytes, id: e.id });
  }
  const slopes: number[] = [];
  const growing: SessionGrowth[] = [];
  const anomalies: Anomaly[] = [];
  const minSpan = Math.max(5, Math.ceil(opts.windowTurns / 2));
  for (const [session, raw] of points) {
    const pts = lastPerTurn(raw);
    if (pts.length < MIN_POINTS || pts[pts.length - 1]!.turn - pts[0]!.turn < minSpan) continue;
    const sample = evenly(pts, MAX_POINTS);
    const slope = theilSen(sample);
    slopes.push(slope);
    const first = sample[0]!;
    const last = sample[sample.length - 1]!;
    const grownBytes = slope * (last.turn - first.turn);
    // Growth that matters: at least 16 B/turn and a quarter of the state over the span measured.
    // Below that is drift (turn ids and counters gaining digits, a pinned fact joining the summary).
    if (slope < MIN_SLOPE_BYTES_PER_TURN || grownBytes < 0.25 * first.bytes) continue;
    const g: SessionGrowth = { session, fromTurn: first.turn, toTurn: last.turn, bytesAtEnd: last.bytes, slopeBytesPerTurn: slope };
    if (opts.maxStateBytes !== undefined) g.capAtTurn = Math.max(last.turn, Math.ceil(last.turn + (opts.maxStateBytes - last.bytes) / slope));
    growing.push(g);
    const where =
      opts.maxStateBytes === undefined
        ? 'no cap is declared, so nothing stops it'
        : g.capAtTurn! <= last.turn
          ? `it is already at the ${opts.maxStateBytes.toLocaleString('en-US')} B cap`
          : `at that rate it reaches the ${opts.maxStateBytes.toLocaleString('en-US')} B cap at turn ${g.capAtTurn!.toLocaleString('en-US')}`;
    anomalies.push({
      type: 'unbounded-growth',
      session,
      message: `session ${session} keeps growing after its window (${opts.windowTurns} turns) is full: ${slope.toFixed(0)} B/turn over turns ${first.turn}–${last.turn}, ${last.bytes.toLocaleString('en-US')} B at turn ${last.turn}; ${where}`,
      ops: [first.id, last.id],
    });
  }
  slopes.sort((a, b) => a - b);
  return { anomalies, sessionsMeasured: slopes.length, medianSlopeBytesPerTurn: slopes.length ? slopes[Math.floor(slopes.length / 2)]! : 0, growing };
}

/** One point per turn count (the last read of it), ordered by turn. */
function lastPerTurn(raw: Array<{ turn: number; bytes: number; id: number }>): Array<{ turn: number; bytes: number; id: number }> {
  const byTurn = new Map<number, { turn: number; bytes: number; id: number }>();
  for (const p of raw) byTurn.set(p.turn, p);
  return [...byTurn.values()].sort((a, b) => a.turn - b.turn);
}

function evenly<T>(a: T[], n: number): T[] {
  if (a.length <= n) return a;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.round((i * (a.length - 1)) / (n - 1))]!);
  return out;
}

function theilSen(pts: ReadonlyArray<{ turn: number; bytes: number }>): number {
  const s: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dt = pts[j]!.turn - pts[i]!.turn;
      if (dt > 0) s.push((pts[j]!.bytes - pts[i]!.bytes) / dt);
    }
  }
  s.sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}
