import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/k6.ts';
import net from 'node:net';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cli } from '../helpers/cli.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

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

  it('points a script error at the line and file the user wrote, not the bundle (real binary)', async () => {
    // Six lines; the bundle puts the throw on a line past the end of this file.
    const s = writeScript(`import http from 'k6/http';

export default async function () {
  const x: number = 1;
  throw new Error('boom ' + x);
}
`, 'throwit.ts');
    try {
      mkdirSync(path.join(s.dir, 'lib'));
      writeFileSync(path.join(s.dir, 'lib', 'helper.ts'), `export function explode(what: string): never {\n  throw new TypeError(\`cannot \${what}\`);\n}\n`);
      writeFileSync(path.join(s.dir, 'init.ts'), `import { explode } from './lib/helper.ts';\n\nexplode('start');\nexport default function () {}\n`);
      const r = await cli(['k6', s.file, '-i', '1', '-q']);
      expect(r.stderr).toContain(`at throwit_default (${s.file}:5:9)`);
      expect(r.stderr).not.toMatch(/throwit\.ts:(?:[7-9]|\d\d+):/);
      // Harness frames are not the user's business.
      expect(r.stderr).not.toMatch(/src\/engine\//);
      // An init-code error names the helper's own file and line.
      const init = await cli(['k6', path.join(s.dir, 'init.ts'), '-q']);
      expect(init.code).toBe(2);
      expect(init.stderr).toContain(`the script's init code failed: cannot start (at ${path.join(s.dir, 'lib', 'helper.ts')}:2:9)`);
    } finally {
      s.cleanup();
    }
  });

  it('says why requests failed: the first 3 distinct reasons with counts, then how many more (real binary)', async () => {
    const ports = [await closedPort(), await closedPort(), await closedPort(), await closedPort()];
    const s = writeScript(`import http from 'k6/http';
export const options = { iterations: 10 };
const ports = ${JSON.stringify(ports)};
export default async function () {
  // 4 requests to the first port, then 2 to each of the others.
  const i = __ITER < 4 ? 0 : 1 + ((__ITER - 4) % 3);
  await http.asyncRequest('GET', 'http://127.0.0.1:' + ports[i] + '/x/' + __ITER);
}`, 'refused.js');
    try {
      const r = await cli(['k6', s.file, '-q']);
      expect(r.stdout).toMatch(/http_req_failed \.+: 100\.00%/);
      const warn = r.stderr.split('\n').filter((l) => l.startsWith('WARN'));
      expect(warn[0]).toBe(`WARN Request Failed: 4 × connect ECONNREFUSED 127.0.0.1:${ports[0]}, e.g. GET http://127.0.0.1:${ports[0]}/x/0`);
      expect(warn[1]).toMatch(new RegExp(`^WARN Request Failed: 2 × connect ECONNREFUSED 127\\.0\\.0\\.1:${ports[1]}, e\\.g\\. GET `));
      expect(warn[2]).toMatch(new RegExp(`^WARN Request Failed: 2 × connect ECONNREFUSED 127\\.0\\.0\\.1:${ports[2]}`));
      expect(warn[3]).toBe('WARN … and 1 more distinct reason (2 requests)');
      expect(warn).toHaveLength(4);
    } finally {
      s.cleanup();
    }
  });

  it('names an unexpected status as the reason a request failed', async () => {
    const refusing = await startServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end('{"code":"store_unavailable"}');
    });
    const s = writeScript(`import http from 'k6/http';
export const options = { iterations: 3 };
export default async function () { await http.asyncRequest('POST', __ENV.URL + '/v1/sessions/s/turns', '{}'); }`, 'status.js');
    try {
      const r = await cli(['k6', s.file, '-e', `URL=${refusing.url}`, '-q']);
      expect(r.stderr).toContain(`WARN Request Failed: 3 × status 503, not an expected status (${refusing.url}), e.g. POST ${refusing.url}/v1/sessions/s/turns`);
    } finally {
      s.cleanup();
      await refusing.close();
    }
  });
});
