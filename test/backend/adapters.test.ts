import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADAPTERS, adapterNamed } from '../../src/backend/adapters.ts';
import { STORE_KINDS } from '../../src/topology/store-kind.ts';

describe('the adapter registry', () => {
  it('names every folder under backends/ that has a launcher, with its profile and known stores', () => {
    for (const a of ADAPTERS) {
      expect(existsSync(a.main), a.main).toBe(true);
      const profile = JSON.parse(readFileSync(a.profile, 'utf8')) as { name: string };
      expect(profile.name).toBe(a.name);
      expect(a.stores.length).toBeGreaterThan(0);
      for (const s of a.stores) expect(STORE_KINDS).toContain(s);
    }
  });
  it('refuses an unknown name in one line with a suggestion', () => {
    expect(() => adapterNamed('langgraph-postgre')).toThrow(/unknown backend 'langgraph-postgre'.*Did you mean 'langgraph-postgres'/is);
  });
});
