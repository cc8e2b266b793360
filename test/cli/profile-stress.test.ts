/**
 * The stress profile resolves to each scenario's stress sizes (read from `stateproof list`, no
 * load run), is taken wherever a profile is (flags, config, list) and refused by the scorecard,
 * which stays ci|full.
 */
import { describe, expect, it } from 'vitest';
import { validateSettings } from '../../src/cli/config.ts';
import { listings, type ScenarioListing } from '../../src/cli/commands/list.ts';
import { cli } from '../helpers/cli.ts';

const byName = (all: ScenarioListing[]) => new Map(all.map((s) => [s.name, s]));

describe('the stress profile', () => {
  it('`list --profile stress --json` gives each scenario its stress sizes', { timeout: 120_000 }, async () => {
    const r = await cli(['list', '--profile', 'stress', '--json']);
    expect(r.code).toBe(0);
    const stress = byName(JSON.parse(r.stdout) as ScenarioListing[]);
    const so = stress.get('store-outage')!;
    expect(so.executors).toEqual([{ name: 'traffic', executor: 'constant-arrival-rate', vus: 150, maxVUs: 2_000, ratePerSecond: 1_500, durationSeconds: 62 }]);
    expect(so.sizes).toMatchObject({ sessions: 1_000, ratePerSecond: 1_500, maxVUs: 2_000 });
    // Every fault of the scenario is still in the plan at stress.
    expect(so.faults).toEqual(['link-down (down)', 'latency-800ms (latency)', 'reset-peer (reset_peer)', 'writes-paused (pause_writes)', 'oom (oom)']);
    expect(stress.get('cross-instance')!.executors).toEqual([{ name: 'writers', executor: 'constant-vus', vus: 64, durationSeconds: 40 }]);
    expect(stress.get('cross-instance')!.sizes).toMatchObject({ sessions: 128, vus: 64 });
    expect(stress.get('long-session')!.executors[0]).toMatchObject({ name: 'grow', vus: 100, iterations: 1 });
    for (const name of ['migration', 'failover']) expect(stress.get(name)!.executors[0]!.ratePerSecond).toBe(1_000);
  });

  it('is larger than ci in every scenario, with the same faults and invariants', { timeout: 120_000 }, async () => {
    const [ci, stress] = [byName(await listings('ci')), byName(await listings('stress'))];
    expect([...stress.keys()]).toEqual([...ci.keys()]);
    for (const [name, s] of stress) {
      const c = ci.get(name)!;
      const load = (l: ScenarioListing) => l.executors.reduce((a, e) => a + (e.ratePerSecond ?? 0) + (e.maxVUs ?? e.vus), 0);
      expect(load(s), name).toBeGreaterThan(load(c));
      expect(s.sizes.sessions, name).toBeGreaterThan(c.sizes.sessions!);
      expect(s.faults, name).toEqual(c.faults);
      expect(s.invariants, name).toEqual(c.invariants);
    }
  });

  it('is a profile for run, suite and the config; a misspelt one is named', async () => {
    expect(validateSettings({ profile: 'stress' }, 'stateproof.config.json')).toEqual({ profile: 'stress' });
    expect(() => validateSettings({ profile: 'stres' }, 'stateproof.config.json')).toThrow(`stateproof.config.json: 'profile' must be one of ci, full, stress; got "stres".`);
    const r = await cli(['list', '--profile', 'stres']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("stateproof list: --profile must be one of ci, full, stress; got 'stres'. Did you mean 'stress'?");
  });

  it('the scorecard stays ci|full and says what to run instead', async () => {
    const r = await cli(['scorecard', '--profile', 'stress']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('stateproof scorecard: --profile stress is not for the scorecard (it compares backends under the same faults at ci or full sizes); to drive one backend near capacity: stateproof run <scenario> --backend <name> --profile stress');
  });
});
