/** `stateproof backend check` through the real binary: declared beside observed, and its exit codes. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { startContractBackend, type ContractBackend } from './fixtures/contract-backend.ts';

let good: ContractBackend;
let skips: ContractBackend;
let dir: string;
const tokens = { 'tok-a': 'a', 'tok-b': 'b' };
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-backend-check-'));
  good = await startContractBackend({ tokens, windowTurns: 8, ttlSeconds: 1, maxTurnBytes: 4096 });
  skips = await startContractBackend({ tokens, windowTurns: 8, ttlSeconds: 1, maxTurnBytes: 4096, defect: 'revision-skips' });
});
afterAll(async () => {
  await good.close();
  await skips.close();
  await rm(dir, { recursive: true, force: true });
});

const profile = (url: string) => ({
  name: 'acme',
  instances: url,
  tenants: Object.keys(tokens),
  bounds: { windowTurns: 8, ttlSeconds: 1, maxTurnBytes: 4096 },
  metrics: { conflicts: 'acme_store_conflicts', degradedResponses: 'acme_degraded_answers' },
});

describe('stateproof backend check', () => {
  it('a correct backend: every declared promise observed, exit 0', async () => {
    const file = path.join(dir, 'good.json');
    await writeFile(file, JSON.stringify(profile(good.urls[0]!)));
    const r = await cli(['backend', 'check', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bounds\.windowTurns\s+8\s+8 turns returned after 11 appends\s+agrees/);
    expect(r.stdout).toMatch(/bounds\.ttlSeconds\s+1\s+idle 2\.5 s, then read answered 404\s+agrees/);
    expect(r.stdout).toMatch(/metrics\.conflicts\s+acme_store_conflicts\s+found acme_store_conflicts\s+agrees/);
    expect(r.stdout).toMatch(/every declared promise observed/);
  });

  it('a revision that skips is named, exit 1', async () => {
    const file = path.join(dir, 'skips.json');
    await writeFile(file, JSON.stringify(profile(skips.urls[0]!)));
    const r = await cli(['backend', 'check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/declared promise\(s\) not observed: .*/);
  });

  it('a closed port is one line, exit 3; a bad profile names the field, exit 2', async () => {
    const closed = await cli(['backend', 'check', '--target', 'http://127.0.0.1:1']);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toMatch(/^stateproof backend: http:\/\/127\.0\.0\.1:1: connection refused/);
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ bounds: { ttlSeconds: '5s' } }));
    const bad = await cli(['backend', 'check', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: 'bounds\.ttlSeconds' must be a number, not a string/);
  });
});
