/** The backend profile: strict, every field optional, messages that name the field and the fix. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, parseProfile, parseTargets, resolveProfile } from '../../src/backend/profile.ts';

const INVARIANTS = ['no-lost-writes', 'idle-expired', 'metrics-agree'];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-profile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backend profile', () => {
  it('an empty profile is the contract minimum', () => {
    const r = resolveProfile(parseProfile({}, 'p', INVARIANTS), 'p');
    expect(r).toMatchObject({ instances: [], tenants: [], router: 'round-robin', bounds: {}, waive: {} });
    expect(r.capabilities).toEqual({ conditionalAppend: false, readModes: ['strong'], summary: false, pinnedFacts: false, degradedMode: false, schemaVersions: [] });
    expect(r.metrics.conflicts.names).toEqual(['stateproof_state_conflicts_total']);
  });

  it('a full profile: one URL or a list, own metric names looked for before the reference names', () => {
    const p = parseProfile(
      {
        name: 'mine',
        instances: ['http://127.0.0.1:8080/', 'http://127.0.0.1:8081'],
        tenants: ['tok-a', 'tok-b'],
        bounds: { windowTurns: 20, ttlSeconds: null, maxStateBytes: 100_000, stalenessBoundMs: 0 },
        capabilities: { conditionalAppend: true, readModes: ['strong', 'eventual'] },
        metrics: { conflicts: 'my_conflicts_total', opLatency: { name: 'my_latency', labels: { op: 'save' } } },
        waive: { 'idle-expired': 'sessions are kept for audit' },
      },
      'p',
      INVARIANTS,
    );
    const r = resolveProfile(p, 'p');
    expect(r.instances).toEqual(['http://127.0.0.1:8080', 'http://127.0.0.1:8081']);
    expect(r.bounds.ttlSeconds).toBeNull();
    expect(r.metrics.conflicts.names).toEqual(['my_conflicts_total', 'stateproof_state_conflicts_total']);
    expect(r.metrics.opLatency.labels).toEqual({ op: 'save' });
    expect(resolveProfile(parseProfile({ instances: 'http://h:1' }, 'p', INVARIANTS), 'p').instances).toEqual(['http://h:1']);
  });

  it.each([
    [{ bounds: { ttlSecond: 5 } }, /unknown key 'bounds.ttlSecond'.*Allowed here: windowTurns, ttlSeconds.*Did you mean 'ttlSeconds'/s],
    [{ tenant: ['a'] }, /unknown key 'tenant'.*Did you mean 'tenants'/s],
    [{ bounds: { ttlSeconds: '5s' } }, /'bounds.ttlSeconds' must be a number, not a string \(write 5, not "5s"\)/],
    [{ bounds: { ttlSeconds: -5 } }, /'bounds.ttlSeconds' must be a positive number of seconds/],
    [{ bounds: { windowTurns: 2.5 } }, /'bounds.windowTurns' must be a whole number of turns/],
    [{ bounds: { stalenessBoundMs: -1 } }, /'bounds.stalenessBoundMs' must be 0 or more milliseconds/],
    [{ instances: 'ftp://x' }, /'instances' must be one URL or a list of URLs/],
    [{ instances: [] }, /'instances' must list at least one URL/],
    [{ capabilities: { readModes: ['strongest'] } }, /'capabilities.readModes.0' must be one of strong, bounded, eventual/],
    [{ waive: { 'no-lost-write': 'x' } }, /waive: unknown invariant 'no-lost-write'.*Did you mean 'no-lost-writes'/s],
    [{ waive: { 'idle-expired': '' } }, /'waive.idle-expired' needs a reason/],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => parseProfile(input, 'stateproof.backend.json', INVARIANTS)).toThrow(message);
  });

  it('is found as --backend-profile, the config key, or ./stateproof.backend.json', async () => {
    await writeFile(path.join(dir, 'stateproof.backend.json'), JSON.stringify({ name: 'from-cwd' }));
    await writeFile(path.join(dir, 'other.json'), JSON.stringify({ name: 'from-flag' }));
    expect((await loadProfile({ cwd: dir }, INVARIANTS))?.profile.name).toBe('from-cwd');
    expect((await loadProfile({ cwd: dir, fromConfig: { name: 'from-config' } }, INVARIANTS))?.profile.name).toBe('from-config');
    expect((await loadProfile({ cwd: dir, file: 'other.json' }, INVARIANTS))?.profile.name).toBe('from-flag');
    await expect(loadProfile({ cwd: dir, file: 'missing.json' }, INVARIANTS)).rejects.toThrow(/--backend-profile: no such file: missing.json/);
    await writeFile(path.join(dir, 'bad.json'), '{ name: ');
    await expect(loadProfile({ cwd: dir, file: 'bad.json' }, INVARIANTS)).rejects.toThrow(/bad.json is not valid JSON/);
    expect(await loadProfile({ cwd: os.tmpdir() }, INVARIANTS)).toBeUndefined();
  });

  it('--target repeated and --target a,b mean the same list', () => {
    expect(parseTargets(['http://a:1', 'http://b:2'])).toEqual(parseTargets(['http://a:1,http://b:2']));
    expect(() => parseTargets(['ftp://x'])).toThrow(/--target: 'ftp:\/\/x' is not an http/);
  });
});
