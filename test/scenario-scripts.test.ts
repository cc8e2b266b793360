/**
 * Every built-in scenario is a valid k6 script (its k6 bundle imports only k6 modules and no Node
 * API) and declares a spec whose fault plan is valid for the topology it asks for, in every
 * profile (ci, full, stress) — checked without running any load.
 */
import { describe, expect, it } from 'vitest';
import { validatePlan } from '../chaos/plan.ts';
import { bundleScript } from '../src/engine/bundle.ts';
import { loadSpec } from '../src/run/load-spec.ts';
import { listScenarios, resolveScenario } from '../src/run/scenarios.ts';
import { isInvariantName } from '../src/check/invariants.ts';
import { LINK_NAMES } from '../src/topology/index.ts';
import { PROFILES } from '../scenarios/lib/spec-types.ts';

describe('built-in scenarios', () => {
  it('are all listed', () => {
    expect(listScenarios()).toEqual(expect.arrayContaining(['store-outage', 'long-session', 'cross-instance', 'migration', 'failover']));
  });
  for (const name of listScenarios()) {
    it(`${name}: a k6 script importing only k6 modules`, async () => {
      const b = await bundleScript(resolveScenario(name).scriptPath, { target: 'k6' });
      const imports = [...b.code.matchAll(/^import [^;]*? from ["']([^"']+)["']/gm)].map((m) => m[1]!);
      expect(imports.length).toBeGreaterThan(0);
      for (const i of imports) expect(i).toMatch(/^k6(\/|$)/);
      expect(b.code).not.toMatch(/\bnode:|\brequire\(/);
      expect(b.code).toMatch(/export\s*\{[^}]*\bdefault\b/s);
      expect(b.code).toMatch(/\boptions\b/);
    });
    for (const profile of PROFILES) {
      it(`${name} (${profile}): a spec with a valid plan and known invariants`, async () => {
        const spec = (await loadSpec(resolveScenario(name).scriptPath, { STATEPROOF_PROFILE: profile }))!;
        expect(spec.name).toBe(name);
        const n = Array.isArray(spec.topology.instances) ? spec.topology.instances.length : spec.topology.instances;
        const ids = Array.from({ length: n }, (_, i) => `i${i + 1}`);
        // A cluster scenario names its store; the topology then has one link per node instead of the front door.
        const cluster = spec.topology.store === 'redis-cluster' || spec.topology.store === 'valkey-cluster';
        const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
        const proxies = cluster ? nodes.map(LINK_NAMES.clusterNode) : [LINK_NAMES.redis, ...ids.map(LINK_NAMES.instance), ...(spec.topology.replica ? [LINK_NAMES.replication, LINK_NAMES.replicaReads] : [])];
        const processes = cluster ? [...ids, ...nodes.map((n) => `cluster-${n}`)] : [...ids, 'redis-server', ...(spec.topology.replica ? ['redis-replica'] : [])];
        expect(() => validatePlan(spec.plan, { proxies, store: true, storeKind: spec.topology.store, replica: spec.topology.replica === true, processes })).not.toThrow();
        // Every invariant a scenario names is in the checkers' one registry.
        for (const inv of spec.invariants) expect(isInvariantName(inv), `unknown invariant ${inv}`).toBe(true);
      });
    }
  }
});
