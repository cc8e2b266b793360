/**
 * An interrupted run in every report: the verdict says INTERRUPTED (exit 105), an invariant
 * violated over the partial history is shown, marked partial, and fails nothing (junit: skipped,
 * the run itself one errored case), and a suite with such a run or unrun scenarios is interrupted.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { verdictOf } from '../../src/report/build.ts';
import { renderRunHtml } from '../../src/report/html/run-report.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { renderSummaryMd } from '../../src/report/markdown.ts';
import { parseResult } from '../../src/report/result-schema.ts';
import { renderSuiteHtml, renderSuiteMd, suiteVerdict } from '../../src/report/suite.ts';
import { runVerdictJson } from '../../src/cli/verdict-json.ts';
import { makeResult } from './fixture.ts';

function interrupted() {
  const { result } = makeResult({ failing: true });
  const invariants = result.invariants.map((i) => ({ ...i, partial: true }));
  const verdict = verdictOf({ invariants, thresholds: result.thresholds }, [], { signal: 'SIGINT', stage: 'load', afterMs: 9_200, plannedMs: 40_000 });
  return parseResult({ ...result, invariants, verdict });
}

describe('an interrupted run in the reports', () => {
  it('the verdict: neither pass nor fail, exit 105, the interruption first, then what the partial history showed', () => {
    const r = interrupted();
    expect(r.verdict).toMatchObject({ pass: false, exitCode: 105, interrupted: { signal: 'SIGINT', stage: 'load' } });
    expect(r.verdict.reasons).toEqual(['run interrupted by SIGINT during the load, after 9 s of 40 s', 'invariant no-lost-writes violated: 1 anomaly (partial history)']);
  });

  it('summary.md, index.html and --json say INTERRUPTED and mark the invariants partial', () => {
    const r = interrupted();
    const md = renderSummaryMd(r);
    expect(md).toMatch(/^## ⏹️ INTERRUPTED — store-outage \(ci\)$/m);
    expect(md).toMatch(/^\| no-lost-writes \| \*\*violated\*\* \(partial\) \| 1 \|/m);
    const html = renderRunHtml(r);
    expect(html).toContain('<section id="verdict" class="verdict interrupted"><div class="badge-big">INTERRUPTED</div>');
    expect(html).toContain('<title>INTERRUPTED · store-outage');
    expect(html).toMatch(/violated<\/span> <span class="chip warn">partial<\/span>/);
    const json = runVerdictJson(r, '/tmp/x', r.verdict.exitCode);
    expect(json).toMatchObject({ verdict: 'interrupted', exitCode: 105, interrupted: { signal: 'SIGINT' } });
    expect(json.invariants.every((i) => i.partial)).toBe(true);
  });

  it('junit: the run is one errored case, a partial violation is skipped, not failed', () => {
    const xml = renderJunit([interrupted()]);
    expect(XMLValidator.validate(xml)).toBe(true);
    const suite = new XMLParser({ ignoreAttributes: false }).parse(xml).testsuites.testsuite;
    expect(suite['@_failures']).toBe('0');
    expect(suite['@_errors']).toBe('1');
    expect(suite['@_skipped']).toBe('1');
    const cases = suite.testcase as Array<Record<string, unknown>>;
    expect(cases.find((c) => c['@_name'] === 'run')!.error).toMatchObject({ '@_type': 'interrupted', '@_message': 'run interrupted by SIGINT during the load, after 9 s of 40 s' });
    expect(cases.find((c) => c['@_name'] === 'no-lost-writes')!.skipped).toBeDefined();
  });

  it('a suite with an interrupted run, or with scenarios it never got to, is interrupted', () => {
    const ok = makeResult().result;
    expect(suiteVerdict([ok])).toBe('pass');
    expect(suiteVerdict([ok], ['long-session'])).toBe('interrupted');
    expect(suiteVerdict([ok, interrupted()])).toBe('interrupted');
    expect(renderSuiteMd([ok, interrupted()], { notRun: ['migration'] })).toMatch(/^## ⏹️ stateproof suite: INTERRUPTED, 1\/3 scenarios passed \(not run: migration\)$/m);
    expect(renderSuiteHtml([interrupted()], { notRun: ['migration'] })).toContain('<div class="badge-big">INTERRUPTED</div>');
  });
});
