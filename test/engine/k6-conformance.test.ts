/**
 * k6-style scripts (fixtures/k6/*.js) run by the built-in engine, compared with what real k6
 * v1.3.0 (built from source) reported for the same script against the same server
 * (fixtures/k6/server.ts): exit code, every check's passes and fails, iteration and request counts,
 * each threshold's verdict, and the metric names (thresholds on tagged submetrics check the tags).
 * The expected values are in fixtures/k6/expected-k6-v1.3.0.json, recorded from real k6 runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacySummaryExport, runScript } from '../../src/engine/index.ts';
import { condense, type Condensed, type LegacyExport } from './fixtures/k6/condense.ts';
import { startFixtureServer, type FixtureServer } from './fixtures/k6/server.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'k6');
const EXPECTED = JSON.parse(readFileSync(path.join(FIXTURES, 'expected-k6-v1.3.0.json'), 'utf8')) as Record<string, Condensed>;

let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer();
});
afterAll(async () => {
  await server.close();
});

async function runFixture(name: string): Promise<Condensed> {
  const r = await runScript({
    scriptPath: path.join(FIXTURES, name),
    env: { BASE: server.http, TLS_BASE: server.https, WS_BASE: server.http.replace('http', 'ws'), GRPC_ADDR: server.grpc },
  });
  return condense(legacySummaryExport(r.summary) as LegacyExport, r.exitCode);
}

describe('the built-in engine reports what real k6 v1.3.0 reports', () => {
  for (const name of Object.keys(EXPECTED)) {
    it(name, async () => {
      expect(await runFixture(name)).toEqual(EXPECTED[name]);
    }, 30_000);
  }
});
