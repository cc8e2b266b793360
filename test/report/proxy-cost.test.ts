// The fault proxy's measured cost travels from result.json into every report and into compare.
import { describe, expect, it } from 'vitest';
import { compareResults } from '../../src/report/compare.ts';
import { renderRunHtml } from '../../src/report/html/run-report.ts';
import { renderSummaryMd } from '../../src/report/markdown.ts';
import { checkResult, parseResult, type ProxyCostResult, type RunResult } from '../../src/report/result-schema.ts';
import { makeResult } from './fixture.ts';

const cost = (p50: number, p99: number, proxy: ProxyCostResult['proxy'] = 'embedded'): ProxyCostResult => ({
  samples: 200,
  via: ['redis-i1', 'redis'],
  proxy,
  directMs: { p50: 0.03, p99: 0.1 },
  proxiedMs: { p50: 0.03 + p50, p99: 0.1 + p99 },
  addedMs: { p50, p99 },
});

function withCost(runId: string, seed: number, c: ProxyCostResult | undefined): RunResult {
  return parseResult(JSON.parse(JSON.stringify({ ...makeResult({ seed, runId }).result, proxyCost: c })));
}

describe('proxy cost in the result and the reports', () => {
  it('is optional in result.json, and a malformed one names its field', () => {
    expect(withCost('a', 1, undefined).proxyCost).toBeUndefined();
    expect(withCost('b', 1, cost(0.05, 0.2)).proxyCost).toEqual(cost(0.05, 0.2));
    const bad = checkResult({ ...makeResult({ seed: 1 }).result, proxyCost: { ...cost(0.05, 0.2), addedMs: { p50: -1, p99: 0.2 } } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.join('\n')).toMatch(/proxyCost\.addedMs\.p50/);
  });

  it('summary.md and index.html say what the proxy added per store round trip', () => {
    const r = withCost('c', 1, cost(0.05, 0.2));
    const line = 'The fault proxy (embedded) added p50 0.050 ms / p99 0.200 ms per store round trip';
    expect(renderSummaryMd(r)).toContain(line);
    expect(renderSummaryMd(r)).toContain('through redis-i1 → redis');
    // Results written before the probe was recorded were PINGs; a Postgres run says it timed SELECT 1.
    expect(renderSummaryMd(r)).toContain('(200 PING round trips each way at start');
    const onPostgres = withCost('pg', 1, { ...cost(0.05, 0.2), probe: 'SELECT 1' });
    expect(onPostgres.proxyCost!.probe).toBe('SELECT 1');
    expect(renderSummaryMd(onPostgres)).toContain('(200 SELECT 1 round trips each way at start');
    expect(renderRunHtml(onPostgres)).toContain('200 SELECT 1 round trips each way');
    expect(renderRunHtml(r)).toContain(line);
    const without = withCost('d', 1, undefined);
    expect(renderSummaryMd(without)).not.toContain('fault proxy (');
    expect(renderRunHtml(without)).not.toContain('id="proxy-cost"');
  });

  it('compare shows each run\'s proxy cost, never gates on it, and notes a difference that matters', () => {
    const base = withCost('base', 11, cost(0.05, 0.2));
    const same = withCost('same', 12, cost(0.06, 0.22));
    const costly = withCost('costly', 13, cost(2.5, 9, 'toxiproxy'));
    const c = compareResults([base, same, costly]);
    const rows = c.rows.filter((r) => r.label.startsWith('fault proxy added'));
    expect(rows.map((r) => [r.label, r.values, r.gated])).toEqual([
      ['fault proxy added per store round trip p50', [0.05, 0.06, 2.5], false],
      ['fault proxy added per store round trip p99', [0.2, 0.22, 9], false],
    ]);
    expect(c.notes.filter((n) => n.includes('fault proxy'))).toHaveLength(1);
    expect(c.notes.find((n) => n.includes('fault proxy'))).toMatch(/^reference \(costly\): /);
    // p50: 2.45 ms more is over 10 % of the baseline run's p50; p99: 8.8 ms is under 10 % of its p99.
    expect(c.notes.join('\n')).toContain('the fault proxy (toxiproxy) added p50 2.50 ms per store round trip, where in reference (base) (embedded) it added p50 0.050 ms');
    expect(c.regressions.some((r) => r.label.includes('fault proxy'))).toBe(false);
    // Runs without the measurement compare as before.
    expect(compareResults([withCost('x', 11, undefined), withCost('y', 12, undefined)]).rows.some((r) => r.label.startsWith('fault proxy'))).toBe(false);
  });
});
