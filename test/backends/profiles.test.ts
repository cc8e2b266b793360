/**
 * Each adapter's stateproof.backend.json: declarations only (instances and tenants are filled in
 * at run time), the library versions it names are the installed ones, and — once the profile
 * module is on this branch — it parses under the real schema.
 */
import { readFileSync } from 'node:fs';
import { parseProfile } from '../../src/backend/profile.ts';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedVersions } from '../../backends/shared/versions.ts';
import * as ioredisHistory from '../../backends/langchain-ioredis-history/adapter.ts';
import * as redisHistory from '../../backends/langchain-redis-history/adapter.ts';
import * as langgraph from '../../backends/langgraph-postgres/adapter.ts';
import * as mastra from '../../backends/mastra-postgres/adapter.ts';

const ADAPTERS: Record<string, readonly string[]> = {
  'langchain-redis-history': redisHistory.LIBRARIES,
  'langchain-ioredis-history': ioredisHistory.LIBRARIES,
  'langgraph-postgres': langgraph.LIBRARIES,
  'mastra-postgres': mastra.LIBRARIES,
};
const DECLARED_KEYS = ['name', 'router', 'bounds', 'capabilities', 'metrics', 'waive', 'access', 'versions'];

describe('backends/*/stateproof.backend.json', () => {
  for (const [name, libraries] of Object.entries(ADAPTERS)) {
    const file = path.resolve(`backends/${name}/stateproof.backend.json`);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;

    it(`${name}: declares, never fills in, and names the installed library versions`, () => {
      expect(profile.name).toBe(name);
      for (const key of Object.keys(profile)) expect(DECLARED_KEYS).toContain(key);
      expect(profile.versions).toEqual(installedVersions(libraries));
      // None of these libraries has a compare-and-set, a degraded mode or metrics.
      expect(profile.capabilities).toMatchObject({ conditionalAppend: false, degradedMode: false, readModes: ['strong'] });
      expect(profile.metrics).toEqual({});
      expect(profile.waive).toBeUndefined();
    });

    it(`${name}: parses under src/backend/profile.ts`, async () => {
      expect(() => parseProfile(profile, file, [])).not.toThrow();
    });
  }
});
