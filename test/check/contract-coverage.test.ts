/**
 * Every promise of the contract has an invariant that checks it and a scenario whose traffic
 * exercises it: each invariant named is in the registry and in each named scenario's own list
 * (read from the bundled scenarios, as the harness reads them), and README prints the same table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTRACT_COVERAGE } from '../../src/check/contract-coverage.ts';
import { isInvariantName } from '../../src/check/invariants.ts';
import { loadSpec } from '../../src/run/load-spec.ts';
import { listScenarios, resolveScenario } from '../../src/run/scenarios.ts';

describe('contract coverage', () => {
  it('every promise names invariants the registry knows and scenarios that name them', async () => {
    const specs = new Map<string, string[]>();
    for (const name of listScenarios()) specs.set(name, (await loadSpec(resolveScenario(name).scriptPath, { STATEPROOF_PROFILE: 'ci' }))!.invariants);
    for (const p of CONTRACT_COVERAGE) {
      expect(p.invariants.length, p.promise).toBeGreaterThan(0);
      expect(p.scenarios.length, p.promise).toBeGreaterThan(0);
      for (const inv of p.invariants) {
        expect(isInvariantName(inv), `${inv} (${p.promise})`).toBe(true);
        // At least one of the promise's scenarios judges each invariant named for it.
        expect(p.scenarios.some((sc) => specs.get(sc)?.includes(inv)), `${inv} is named by none of ${p.scenarios.join(', ')}`).toBe(true);
      }
      for (const sc of p.scenarios) expect(specs.has(sc), sc).toBe(true);
    }
  });

  it('README prints the same table', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const p of CONTRACT_COVERAGE) expect(readme).toContain(`| ${p.promise} | ${p.invariants.map((i) => `\`${i}\``).join(', ')} | ${p.scenarios.join(', ')} |`);
  });
});
