/**
 * junit.xml: one <testsuite> per scenario run, one <testcase> per invariant (and per threshold),
 * failures carrying each anomaly with its proving operations — what CI systems show per test.
 * An interrupted run adds one errored case ("run": it did not complete), and an invariant violated
 * over its partial history is skipped, its anomalies kept as text: it decides nothing.
 */
import { interruptionText, PARTIAL_NOTE, verdictKind } from './verdict.ts';
import type { RunResult } from './result-schema.ts';

export function xmlEscape(s: unknown): string {
  return (
    String(s)
      // XML 1.0 cannot carry most control characters at all, even escaped.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string)
  );
}

const MAX_ANOMALIES_IN_TEXT = 100;

function testsuite(r: RunResult): { xml: string; tests: number; failures: number; errors: number; timeSec: number } {
  const cls = `stateproof.${r.scenario.name}`;
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  if (r.verdict.interrupted) {
    errors++;
    cases.push(
      `    <testcase classname="${xmlEscape(cls)}" name="run" time="0">\n` +
        `      <error message="${xmlEscape(`run ${interruptionText(r.verdict.interrupted)}`)}" type="interrupted">${xmlEscape(PARTIAL_NOTE)}</error>\n` +
        `    </testcase>`,
    );
  }
  for (const inv of r.invariants) {
    if (inv.holds) {
      cases.push(`    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(inv.name)}" time="0"/>`);
      continue;
    }
    const lines = inv.anomalies
      .slice(0, MAX_ANOMALIES_IN_TEXT)
      .map((a) => `${a.type}${a.session ? ` session=${a.session}` : ''}: ${a.message} [ops ${a.ops.map((o) => `#${o}`).join(' ')}]`);
    if (inv.anomalies.length > MAX_ANOMALIES_IN_TEXT) lines.push(`... ${inv.anomalies.length - MAX_ANOMALIES_IN_TEXT} more in result.json`);
    const type = inv.anomalies[0]?.type ?? 'violated';
    const message = `${inv.name} violated: ${inv.anomalies.length} anomal${inv.anomalies.length === 1 ? 'y' : 'ies'}`;
    if (inv.partial) {
      skipped++;
      cases.push(
        `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(inv.name)}" time="0">\n` +
          `      <skipped message="${xmlEscape(`${message} over the partial history of an interrupted run`)}">${xmlEscape(`${inv.description}\n${lines.join('\n')}`)}</skipped>\n` +
          `    </testcase>`,
      );
      continue;
    }
    failures++;
    cases.push(
      `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(inv.name)}" time="0">\n` +
        `      <failure message="${xmlEscape(message)}" type="${xmlEscape(type)}">${xmlEscape(`${inv.description}\n${lines.join('\n')}`)}</failure>\n` +
        `    </testcase>`,
    );
  }
  for (const t of r.thresholds) {
    const name = `threshold ${t.metric} ${t.expression}`;
    if (t.ok) cases.push(`    <testcase classname="${xmlEscape(`${cls}.thresholds`)}" name="${xmlEscape(name)}" time="0"/>`);
    else if (r.verdict.interrupted) {
      skipped++;
      cases.push(
        `    <testcase classname="${xmlEscape(`${cls}.thresholds`)}" name="${xmlEscape(name)}" time="0">\n` +
          `      <skipped message="${xmlEscape(`threshold failed over the partial run${t.observed ? `: observed ${t.observed}` : ''}`)}"/>\n` +
          `    </testcase>`,
      );
    } else {
      failures++;
      cases.push(
        `    <testcase classname="${xmlEscape(`${cls}.thresholds`)}" name="${xmlEscape(name)}" time="0">\n` +
          `      <failure message="${xmlEscape(`threshold failed${t.observed ? `: observed ${t.observed}` : ''}`)}" type="threshold"/>\n` +
          `    </testcase>`,
      );
    }
  }
  const timeSec = Math.max(0, (r.endedAtMs - r.startedAtMs) / 1000);
  const props = [
    ['runId', r.runId],
    ['profile', r.scenario.profile],
    ['backend', r.scenario.backend ?? ''],
    ['verdict', verdictKind(r.verdict)],
  ]
    .map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`)
    .join('\n');
  const xml =
    `  <testsuite name="${xmlEscape(r.scenario.name)}" id="${xmlEscape(r.runId)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" ` +
    `time="${timeSec.toFixed(3)}" timestamp="${new Date(r.startedAtMs).toISOString().replace(/\.\d{3}Z$/, '')}">\n` +
    `    <properties>\n${props}\n    </properties>\n` +
    cases.join('\n') +
    (cases.length ? '\n' : '') +
    `  </testsuite>`;
  return { xml, tests: cases.length, failures, errors, timeSec };
}

export function renderJunit(results: readonly RunResult[], name = 'stateproof'): string {
  const suites = results.map(testsuite);
  const tests = suites.reduce((a, s) => a + s.tests, 0);
  const failures = suites.reduce((a, s) => a + s.failures, 0);
  const errors = suites.reduce((a, s) => a + s.errors, 0);
  const time = suites.reduce((a, s) => a + s.timeSec, 0);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${xmlEscape(name)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n` +
    suites.map((s) => s.xml).join('\n') +
    (suites.length ? '\n' : '') +
    `</testsuites>\n`
  );
}
