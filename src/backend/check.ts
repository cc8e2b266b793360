/**
 * `stateproof backend check`: each declared capability and bound probed against the live backend
 * with a few requests, printed beside what was declared. A probe observes; it never retries or
 * repairs. "not probed" says why (too slow for a check, or needs a store fault).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedProfile } from './profile.ts';
import { METRIC_CONCEPTS, type MetricConcept } from './profile.ts';
import { probe, type ProbeAnswer, type ProbeTarget } from './probe.ts';

export type Verdict = 'agrees' | 'differs' | 'not probed' | 'observed';

export interface ProbeRow {
  what: string;
  declared: string;
  observed: string;
  verdict: Verdict;
}

/** TTLs up to this long are waited out by the check; longer ones are not probed. */
export const MAX_TTL_PROBE_S = 10;

const num = (a: ProbeAnswer, k: string): number | undefined => {
  const v = a.body && typeof a.body === 'object' ? (a.body as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : undefined;
};
const turnsOf = (a: ProbeAnswer): string[] => {
  const t = a.body && typeof a.body === 'object' ? (a.body as { turns?: unknown }).turns : undefined;
  return Array.isArray(t) ? t.map((x) => String((x as { turnId?: unknown }).turnId)) : [];
};

export async function checkBackend(p: ResolvedProfile, opts: { url: string; onRow?: (r: ProbeRow) => void }): Promise<ProbeRow[]> {
  const rows: ProbeRow[] = [];
  const row = (what: string, declared: string, observed: string, verdict: Verdict) => {
    const r = { what, declared, observed, verdict };
    rows.push(r);
    opts.onRow?.(r);
  };
  const t: ProbeTarget = { url: opts.url, token: p.tenants[0] };
  const session = `stateproof-check-${randomUUID().slice(0, 8)}`;
  const base = `/v1/sessions/${session}`;
  const append = (turnId: string, content = `probe ${turnId}`, headers: Record<string, string> = {}) => probe(t, 'POST', `${base}/turns`, { turnId, content }, headers);

  // Idempotency and the counters: the contract's minimum, always probed.
  const a1 = await append('t1');
  const a2 = await append('t2');
  const replay = await append('t2');
  const okReplay = replay.status === 200 && (replay.body as { applied?: unknown })?.applied === false && num(replay, 'turnCount') === num(a2, 'turnCount');
  row('idempotent replay', 'required', `status ${replay.status}, applied ${String((replay.body as { applied?: unknown })?.applied)}, turnCount ${num(a2, 'turnCount')} → ${num(replay, 'turnCount')}`, okReplay ? 'agrees' : 'differs');
  // The window: append past it (each answer's revision must be the one before plus one), then read.
  const declaredWindow = p.bounds.windowTurns;
  const n = (declaredWindow ?? 12) + 3;
  const revisions = [num(a1, 'revision'), num(a2, 'revision')];
  for (let i = 3; i <= n; i++) revisions.push(num(await append(`t${i}`), 'revision'));
  const skip = revisions.findIndex((r, i) => r === undefined || (i > 0 && r !== revisions[i - 1]! + 1));
  const replayKept = num(replay, 'revision') === revisions[1];
  row(
    'revision +1 per applied turn',
    'required',
    skip >= 0 ? `turn ${skip + 1} answered revision ${revisions[skip]} after ${revisions[skip - 1]}` : replayKept ? `${revisions[0]} → ${revisions.at(-1)} over ${n} turns, replay unchanged` : `the replay moved revision ${revisions[1]} → ${num(replay, 'revision')}`,
    skip < 0 && replayKept ? 'agrees' : 'differs',
  );
  const read = await probe(t, 'GET', base);
  const ids = turnsOf(read);
  const inOrder = ids.every((id, i) => i === 0 || Number(id.slice(1)) > Number(ids[i - 1]!.slice(1)));
  row('turns oldest first', 'required', inOrder ? `in order (${ids.length} turns)` : `out of order: ${ids.join(', ')}`, inOrder ? 'agrees' : 'differs');
  row(
    'bounds.windowTurns',
    declaredWindow === undefined ? 'not declared' : String(declaredWindow),
    `${ids.length} turns returned after ${n} appends`,
    declaredWindow === undefined ? 'observed' : ids.length === declaredWindow ? 'agrees' : 'differs',
  );

  // Conditional append.
  const rev = num(read, 'revision') ?? 0;
  const stale = await append(`if-match-${randomUUID().slice(0, 6)}`, 'conditional', { 'if-match': String(Math.max(0, rev - 1)) });
  const cas = stale.status === 409;
  row('capabilities.conditionalAppend', String(p.capabilities.conditionalAppend), cas ? 'stale If-Match answered 409' : `stale If-Match answered ${stale.status} (ignored)`, p.capabilities.conditionalAppend === cas ? 'agrees' : 'differs');

  // Read modes.
  for (const mode of ['bounded', 'eventual'] as const) {
    const r = await probe(t, 'GET', `${base}?consistency=${mode}`);
    const declared = p.capabilities.readModes.includes(mode);
    const accepted = r.status === 200;
    row(`read mode ${mode}`, declared ? 'supported' : 'not declared', `answered ${r.status}`, declared ? (accepted ? 'agrees' : 'differs') : 'observed');
  }

  // Summary.
  const hasSummary = read.body !== undefined && typeof (read.body as { summary?: unknown }).summary === 'string';
  row('capabilities.summary', String(p.capabilities.summary), hasSummary ? 'reads carry a summary' : 'no summary field', p.capabilities.summary ? (hasSummary ? 'agrees' : 'differs') : 'observed');

  // Per-turn size limit.
  if (p.bounds.maxTurnBytes !== undefined) {
    const big = await append(`big-${randomUUID().slice(0, 6)}`, 'x'.repeat(p.bounds.maxTurnBytes + 1));
    row('bounds.maxTurnBytes', String(p.bounds.maxTurnBytes), `a ${p.bounds.maxTurnBytes + 1}-byte turn answered ${big.status}`, big.status === 413 ? 'agrees' : 'differs');
  } else row('bounds.maxTurnBytes', 'not declared', '-', 'not probed');

  // Tenants.
  if (p.tenants.length >= 2) {
    const other = await probe({ url: opts.url, token: p.tenants[1] }, 'GET', base);
    row('tenant isolation', `${p.tenants.length} tenants`, `tenant #2 reading tenant #1's session answered ${other.status}`, other.status === 404 ? 'agrees' : 'differs');
  } else row('tenant isolation', 'one tenant', '-', 'not probed');

  // TTL.
  const ttl = p.bounds.ttlSeconds;
  if (ttl === undefined) row('bounds.ttlSeconds', 'not declared', 'the scenarios measure expiry (long-session)', 'not probed');
  else if (ttl === null) row('bounds.ttlSeconds', 'none (sessions never expire)', 'long-session measures what idle sessions hold', 'not probed');
  else if (ttl > MAX_TTL_PROBE_S) row('bounds.ttlSeconds', String(ttl), `longer than ${MAX_TTL_PROBE_S} s: left to long-session`, 'not probed');
  else {
    const idle = `${base}-idle`;
    await probe(t, 'POST', `${idle}/turns`, { turnId: 'idle', content: 'idle' });
    await sleep(ttl * 1000 + 1500);
    const after = await probe(t, 'GET', idle);
    row('bounds.ttlSeconds', String(ttl), `idle ${ttl + 1.5} s, then read answered ${after.status}`, after.status === 404 ? 'agrees' : 'differs');
  }

  // Metrics.
  const metrics = await probe({ url: opts.url }, 'GET', '/metrics');
  for (const concept of Object.keys(METRIC_CONCEPTS) as MetricConcept[]) {
    const names = p.metrics[concept].names;
    const found = names.find((name) => new RegExp(`^${name}(?:_bucket|_sum|_count)?(?:\\{| )`, 'm').test(metrics.text));
    const declared = names[0] === METRIC_CONCEPTS[concept] ? `${names[0]} (reference name)` : names[0]!;
    row(`metrics.${concept}`, declared, metrics.status !== 200 ? `/metrics answered ${metrics.status}` : found ? `found ${found}` : 'not found', found ? 'agrees' : names[0] === METRIC_CONCEPTS[concept] ? 'observed' : 'differs');
  }

  row('capabilities.degradedMode', String(p.capabilities.degradedMode), 'needs a store fault: store-outage measures it', 'not probed');
  await probe(t, 'DELETE', base).catch(() => undefined);
  return rows;
}
