/** index.html for one run: verdict first, then what failed and why, then how it behaved. */
import { esc } from '../format.ts';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../result-schema.ts';
import { capacity, details, latency, stateHealth, thresholds } from './detail-sections.ts';
import { page } from './page.ts';
import { VERDICT_WORD, verdictKind } from '../verdict.ts';
import { faultImpact, header, invariants, timeline, verdict } from './run-sections.ts';

export function renderRunHtml(r: RunResult): string {
  return page({
    title: `${VERDICT_WORD[verdictKind(r.verdict)]} · ${r.scenario.name} · ${r.runId}`,
    body: [header(r), verdict(r), invariants(r), timeline(r), faultImpact(r), latency(r), stateHealth(r), capacity(r), thresholds(r), details(r)].join('\n'),
    footer: `stateproof · rendered from result.json (schema v${RESULT_SCHEMA_VERSION}) · run <code>${esc(r.runId)}</code>`,
  });
}
