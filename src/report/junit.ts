/**
 * junit.xml: one <testsuite> per scenario run, one <testcase> per invariant (and per threshold),
 * failures carrying each anomaly with its proving operations — what CI systems show per test.
 */
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

function testsuite(r: RunResult): { xml: string; tests: number; failures: number; timeSec: number } {
  const cls = `stateproof.${r.scenario.name}`;
  const cases: string[] = [];
  let failures = 0;
  for (const inv of r.invariants) {
    if (inv.holds) {
      cases.push(`    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(inv.name)}" time="0"/>`);
      continue;
    }
    failures++;
    const lines = inv.anomalies
      .slice(0, MAX_ANOMALIES_IN_TEXT)
      .map((a) => `${a.type}${a.session ? ` session=${a.session}` : ''}: ${a.message} [ops ${a.ops.map((o) => `#${o}`).join(' ')}]`);
    if (inv.anomalies.length > MAX_ANOMALIES_IN_TEXT) lines.push(`... ${inv.anomalies.length - MAX_ANOMALIES_IN_TEXT} more in result.json`);
    const type = inv.anomalies[0]?.type ?? 'violated';
    const message = `${inv.name} violated: ${inv.anomalies.length} anomal${inv.anomalies.length === 1 ? 'y' : 'ies'}`;
    cases.push(
      `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(inv.name)}" time="0">\n` +
        `      <failure message="${xmlEscape(message)}" type="${xmlEscape(type)}">${xmlEscape(`${inv.description}\n${lines.join('\n')}`)}</failure>\n` +
        `    </testcase>`,
    );
  }
  for (const t of r.thresholds) {
    const name = `threshold ${t.metric} ${t.expression}`;
    if (t.ok) cases.push(`    <testcase classname="${xmlEscape(`${cls}.thresholds`)}" name="${xmlEscape(name)}" time="0"/>`);
    else {
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
    ['verdict', r.verdict.pass ? 'pass' : 'fail'],
  ]
    .map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`)
    .join('\n');
  const xml =
    `  <testsuite name="${xmlEscape(r.scenario.name)}" id="${xmlEscape(r.runId)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" ` +
    `time="${timeSec.toFixed(3)}" timestamp="${new Date(r.startedAtMs).toISOString().replace(/\.\d{3}Z$/, '')}">\n` +
    `    <properties>\n${props}\n    </properties>\n` +
    cases.join('\n') +
    (cases.length ? '\n' : '') +
    `  </testsuite>`;
  return { xml, tests: cases.length, failures, timeSec };
}

export function renderJunit(results: readonly RunResult[], name = 'stateproof'): string {
  const suites = results.map(testsuite);
  const tests = suites.reduce((a, s) => a + s.tests, 0);
  const failures = suites.reduce((a, s) => a + s.failures, 0);
  const time = suites.reduce((a, s) => a + s.timeSec, 0);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${xmlEscape(name)}" tests="${tests}" failures="${failures}" errors="0" time="${time.toFixed(3)}">\n` +
    suites.map((s) => s.xml).join('\n') +
    (suites.length ? '\n' : '') +
    `</testsuites>\n`
  );
}
