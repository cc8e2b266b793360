import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/k6.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

describe('stateproof k6', () => {
  it('runs a .js script with -e/--iterations, prints the summary, exports it, exits as k6 does', async () => {
    const s = writeScript(`import http from 'k6/http';
import { check } from 'k6';
export const options = { thresholds: { checks: ['rate==1'], http_reqs: ['count>=4'] } };
export default async function () { check(await http.asyncRequest('GET', __ENV.URL + '/'), { 'is 200': (r) => r.status === 200 }); }`, 'script.js');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const exportFile = path.join(s.dir, 'summary.json');
      const code = await run([s.file, '-e', `URL=${server.url}`, '--iterations', '4', '--vus', '2', '--summary-export', exportFile, '-q']);
      expect(code).toBe(0);
      const printed = out.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toMatch(/✓ is 200/);
      expect(printed).toMatch(/http_reqs \.+: 4 /);
      const exported = JSON.parse(readFileSync(exportFile, 'utf8'));
      expect(exported.metrics.http_reqs.count).toBe(4);
      expect(exported.metrics.checks).toMatchObject({ passes: 4, fails: 0, value: 1, thresholds: { 'rate==1': false } });

      const failing = await run([s.file, '-e', `URL=${server.url}`, '-i', '2', '-q']);
      expect(failing).toBe(99); // count>=4 fails with 2 iterations
    } finally {
      out.mockRestore();
      s.cleanup();
    }
  });

  it('writes handleSummary files instead of the default summary', async () => {
    const s = writeScript(`export const options = { iterations: 1 };
export default function () {}
export function handleSummary(data) { return { [__ENV.OUT]: JSON.stringify({ iterations: data.metrics.iterations.values.count }) }; }`);
    try {
      const file = path.join(s.dir, 'out.json');
      expect(await run([s.file, '-e', `OUT=${file}`, '-q'])).toBe(0);
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ iterations: 1 });
    } finally {
      s.cleanup();
    }
  });

  it('names what is wrong with its arguments', async () => {
    await expect(run([])).rejects.toThrow(/expected exactly one script/);
    await expect(run(['x.js', '-e', 'NOEQUALS'])).rejects.toThrow(/KEY=VALUE/);
    await expect(run(['x.js', '--vus', 'many'])).rejects.toThrow(/non-negative integer/);
  });
});
