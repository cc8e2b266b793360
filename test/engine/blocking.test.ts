/** Blocking VUs (src/engine/blocking/): which scripts get them, and how they start, fail and stop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/engine/blocking/classify.ts';
import { checkBlockingVUs } from '../../src/engine/blocking/memory.ts';
import { bundleScript } from '../../src/engine/bundle.ts';
import { runScript } from '../../src/engine/index.ts';
import { resolveScenarios } from '../../src/engine/options.ts';
import { startServer, writeScript, type TestServer } from './helpers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

async function modelOf(source: string) {
  const s = writeScript(source, 'script.js');
  try {
    return classify((await bundleScript(s.file, { target: 'node' })).code);
  } finally {
    s.cleanup();
  }
}

async function run(source: string, opts: { vus?: number; iterations?: number; duration?: string } = {}) {
  const s = writeScript(source, 'script.js');
  try {
    return await runScript({ scriptPath: s.file, env: { URL: server.url }, ...opts });
  } finally {
    s.cleanup();
  }
}

describe('the execution model is chosen per script', () => {
  it('keeps scripts that only use async APIs (and sleep) in-process', async () => {
    expect(await modelOf(`import http from 'k6/http'; import { sleep } from 'k6';
export default async function () { await http.asyncRequest('GET', __ENV.URL); http.expectedStatuses(200); sleep(1); }`)).toEqual({ model: 'in-process', reasons: [] });
  });

  it('gives blocking VUs to scripts that call synchronous APIs, naming them', async () => {
    expect(await modelOf(`import http from 'k6/http'; export default function () { http.get(__ENV.URL); http.batch([]); }`)).toEqual({
      model: 'blocking',
      reasons: ['k6/http.get', 'k6/http.batch'],
    });
    expect((await modelOf(`import { post } from 'k6/http'; export default function () { post(__ENV.URL); }`)).reasons).toEqual(['k6/http.post']);
    expect((await modelOf(`import ws from 'k6/ws'; export default function () { ws.connect('ws://x', () => {}); }`)).reasons).toEqual(['k6/ws']);
  });

  it('counts a use it cannot read (a computed member) as blocking', async () => {
    const m = await modelOf(`import http from 'k6/http'; const verb = 'get'; export default function () { http[verb](__ENV.URL); }`);
    expect(m.model).toBe('blocking');
  });
});

describe('blocking VUs', () => {
  it('refuses VU counts that would not fit in memory, saying how many would', () => {
    const configs = resolveScenarios({ vus: 500, duration: '10s' });
    expect(() => checkBlockingVUs(configs, ['k6/http.get'], 1000)).toThrow(
      /500 VUs that block \(the script uses k6\/http.get\) need about \d+ MB.*run at most \d+ VUs, or use http.asyncRequest/,
    );
    expect(() => checkBlockingVUs(configs, ['k6/http.get'], 100_000)).not.toThrow();
  });

  it('refuses requests in the init context, as k6 does', async () => {
    await expect(run(`import http from 'k6/http'; http.get(__ENV.URL); export default function () {}`)).rejects.toThrow(
      /making requests in the init context is not supported/,
    );
  });

  it('logs an exception and counts the iteration; test.abort() ends the run with 108', async () => {
    const r = await run(`import http from 'k6/http'; import exec from 'k6/execution';
export default function () { http.get(__ENV.URL); if (exec.scenario.iterationInTest === 1) throw new Error('boom'); if (exec.scenario.iterationInTest === 3) exec.test.abort('enough'); }`, { vus: 1, iterations: 10 });
    expect(r.exitCode).toBe(108);
    expect(r.metrics.iterations!.values.count).toBe(3);
    expect(r.metrics.http_reqs!.values.count).toBe(4);
  });

  it('interrupts a VU blocked in sleep() at the end of the graceful stop', async () => {
    const r = await run(`import http from 'k6/http'; import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'constant-vus', vus: 2, duration: '300ms', gracefulStop: '0s' } } };
export default function () { http.get(__ENV.URL); sleep(60); }`);
    expect(r.exitCode).toBe(0);
    expect(r.metrics.http_reqs!.values.count).toBe(2);
    expect(r.metrics.iterations?.values.count ?? 0).toBe(0);
  }, 20_000);

  it('refuses an unimplemented feature used inside a blocking VU, naming it', async () => {
    await expect(run(`import http from 'k6/http'; export default function () { http.get(__ENV.URL).html('p').closest('div'); }`)).rejects.toThrow(
      /k6\/html Selection.closest\(\) is not implemented by the built-in engine/,
    );
  });
});
