/**
 * The seed stage: sessions a scenario asks to find in the store before the load starts (the
 * migration scenario's v1 sessions), written straight into Redis.
 */
import type { ScenarioSpec } from '../../scenarios/lib/spec-types.ts';
import type { Topology } from '../topology/index.ts';
import type { HistoryLog } from './history-log.ts';
import { seedV1Sessions } from './store-snapshot.ts';

const SEED_TURNS = 3;

/** Seeded state is history too: the harness wrote it, so reads that show it show no phantom. */
export async function seedStore(topology: Topology, spec: ScenarioSpec | undefined, tenant: string, history: HistoryLog): Promise<void> {
  // With two tenants the scenario records every op's tenant; the seeded entries must name it too.
  const recorded = Object.keys(topology.tenants).length >= 2 ? tenant : undefined;
  if (!spec?.seed?.v1Sessions || !topology.redis) return;
  const prefix = spec.seed.sessionPrefix ?? 'seed-';
  await seedV1Sessions(topology.redis.url, { tenant, prefix, count: spec.seed.v1Sessions, turns: SEED_TURNS });
  const now = Date.now();
  for (let s = 0; s < spec.seed.v1Sessions; s++) {
    for (let t = 0; t < SEED_TURNS; t++) {
      history.add({ id: 0, vu: 0, op: 'append', tenant: recorded, session: `${prefix}${s}`, turnId: `${prefix}${s}-seed-${t}`, intendedStartMs: now, startMs: now, endMs: now, outcome: 'ok', status: 201, code: 'seeded', revision: t + 1, turnCount: t + 1, applied: true, schemaVersion: 1, phase: 'seed' });
    }
  }
}
