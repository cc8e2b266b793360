/**
 * Blocking VUs (scripts that call http.get & co., src/engine/blocking/): what one costs in resident
 * memory and start-up time, and the requests/s a synchronous script reaches beside the same script
 * written with http.asyncRequest (in-process VUs) and, with K6_PATH set, beside real k6.
 *
 *   npm run bench blocking-vus
 *   STATEPROOF_BENCH_VUS=500 (VUs started for the memory figure)  STATEPROOF_BENCH_SECONDS=4
 *   STATEPROOF_BENCH_CONNECTIONS=32 (VUs of the req/s rounds)     K6_PATH=/path/to/k6
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlockingScript } from '../src/engine/blocking/script.ts';
import { bundleScript } from '../src/engine/bundle.ts';
import { runScript } from '../src/engine/index.ts';
import { TestRun } from '../src/engine/test-run.ts';
import { VU } from '../src/engine/vu.ts';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const VUS = env('STATEPROOF_BENCH_VUS', 500);
const SECONDS = env('STATEPROOF_BENCH_SECONDS', 4);
const CONNECTIONS = env('STATEPROOF_BENCH_CONNECTIONS', 32);
const ROUNDS = env('STATEPROOF_BENCH_ROUNDS', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${String(d).trim()}/`, child }));
    child.once('exit', () => reject(new Error('bench server exited')));
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-bench-blocking-'));
const syncScript = path.join(dir, 'sync.js');
const asyncScript = path.join(dir, 'async.js');
writeFileSync(syncScript, `import http from 'k6/http';\nimport { check } from 'k6';\nexport default function () { check(http.get(__ENV.URL), { ok: (r) => r.status === 200 }); }\n`);
writeFileSync(asyncScript, `import http from 'k6/http';\nimport { check } from 'k6';\nexport default async function () { check(await http.asyncRequest('GET', __ENV.URL), { ok: (r) => r.status === 200 }); }\n`);

/** Starts `VUS` blocking VUs as a run does (all booting at once) and measures time and memory. */
async function memoryAndStartup(): Promise<void> {
  const bundle = await bundleScript(syncScript, { target: 'node' });
  const script = await BlockingScript.load(bundle);
  const run = new TestRun({}, {}, undefined, undefined, {});
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  script.prestart(Array.from({ length: VUS }, (_, i) => i + 1), {}, {});
  for (let i = 1; i <= VUS; i++) {
    const vu = new VU(i, run);
    vu.exports = script.instantiate(vu, {});
  }
  const startupMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = process.memoryUsage().rss;
  console.log(`${VUS} blocking VUs: started in ${(startupMs / 1000).toFixed(1)} s (${(startupMs / VUS).toFixed(1)} ms per VU); resident memory ${((rss - rss0) / 1048576).toFixed(0)} MB, ${((rss - rss0) / VUS / 1048576).toFixed(2)} MB per VU`);
  await script.close();
}

async function engineRps(script: string, url: string): Promise<number> {
  const r = await runScript({ scriptPath: script, env: { URL: url }, vus: CONNECTIONS, duration: `${SECONDS}s` });
  const checks = r.metrics.checks?.values;
  if (!checks || checks.fails !== 0) throw new Error(`bench script's check failed: ${JSON.stringify(checks)}`);
  return r.metrics.http_reqs!.values.count! / (r.durationMs / 1000);
}

function k6Rps(k6: string, url: string): number {
  const out = path.join(dir, 'k6-summary.json');
  const r = spawnSync(k6, ['run', '--quiet', '--summary-export', out, '--vus', String(CONNECTIONS), '--duration', `${SECONDS}s`, '-e', `URL=${url}`, syncScript], { stdio: ['ignore', 'ignore', 'ignore'] });
  if (r.status !== 0) throw new Error(`k6 exited ${r.status}`);
  return (JSON.parse(readFileSync(out, 'utf8')) as { metrics: { http_reqs: { rate: number } } }).metrics.http_reqs.rate;
}

const server = await startServer();
try {
  await memoryAndStartup();
  const rows: Record<string, number[]> = { 'sync http.get (blocking VUs)': [], 'http.asyncRequest (in-process VUs)': [] };
  if (process.env.K6_PATH) rows['real k6, sync http.get'] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rows['sync http.get (blocking VUs)']!.push(await engineRps(syncScript, server.url));
    rows['http.asyncRequest (in-process VUs)']!.push(await engineRps(asyncScript, server.url));
    if (process.env.K6_PATH) rows['real k6, sync http.get']!.push(k6Rps(process.env.K6_PATH, server.url));
  }
  console.log(`requests/s, ${CONNECTIONS} VUs, ${SECONDS} s, median of ${ROUNDS}:`);
  for (const [name, xs] of Object.entries(rows)) console.log(`  ${name.padEnd(38)} ${median(xs).toFixed(0).padStart(7)}   (${xs.map((x) => x.toFixed(0)).join(', ')})`);
} finally {
  server.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
