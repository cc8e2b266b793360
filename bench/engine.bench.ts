/**
 * Built-in engine vs autocannon, same trivial loopback server (its own process), same connection
 * count, in one run; then the engine's RSS after 100 k requests vs after N (flat memory).
 *
 *   npm run bench engine
 *   STATEPROOF_BENCH_ROUNDS=3 STATEPROOF_BENCH_SECONDS=4 STATEPROOF_BENCH_CONNECTIONS=32
 *   STATEPROOF_BENCH_RSS_REQUESTS=1000000  (default 400000 so the bench stays near a minute; 1 M is the brief)
 *
 * Throughput rounds alternate the two tools and quote the median of each; the engine runs a k6
 * script with history recording ON (every request recorded through scenarios/lib/history.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { runScript } from '../src/engine/index.ts';
import { HistoryRecorder } from '../src/record/sink.ts';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const ROUNDS = env('STATEPROOF_BENCH_ROUNDS', 3);
const SECONDS = env('STATEPROOF_BENCH_SECONDS', 4);
const CONNECTIONS = env('STATEPROOF_BENCH_CONNECTIONS', 32);
const RSS_REQUESTS = env('STATEPROOF_BENCH_RSS_REQUESTS', 400_000);
const RSS_FIRST = 100_000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function startServer(): Promise<{ url: string; child: ChildProcess }> {
  // GET /__cpu answers the server's own CPU time (µs), read before and after each round.
  const server = "require('http').createServer((q,s)=>{if(q.url==='/__cpu'){const c=process.cpuUsage();s.end(String(c.user+c.system));return}s.end('ok')})";
  const child = spawn(process.execPath, ['-e', `${server}.listen(0,'127.0.0.1',function(){console.log(this.address().port)})`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${String(d).trim()}/`, child }));
    child.once('exit', () => reject(new Error('bench server exited')));
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-bench-'));
const script = path.join(dir, 'bench.js');
writeFileSync(
  script,
  `import http from 'k6/http';
import { recordOp } from ${JSON.stringify(path.join(root, 'scenarios/lib/history.ts'))};
export default async function () {
  const startMs = Date.now();
  const r = await http.asyncRequest('GET', __ENV.URL);
  if (__ENV.HISTORY === '1') recordOp({ op: 'read', session: 's', intendedStartMs: startMs, startMs, endMs: Date.now(), outcome: r.status === 200 ? 'ok' : 'unknown', status: r.status });
}
`,
);

/**
 * Runs one round and returns requests/s, plus CPU time per request of this process (the load
 * generator) and of the server: on a shared, noisy box these say more than requests/s alone.
 */
async function measured(url: string, round: (url: string) => Promise<{ rps: number; requests: number }>): Promise<{ rps: number; clientUs: number; serverUs: number }> {
  const serverCpu = async () => Number(await (await fetch(`${url}__cpu`)).text());
  const s0 = await serverCpu();
  const c0 = process.cpuUsage();
  const { rps, requests } = await round(url);
  const c = process.cpuUsage(c0);
  const s1 = await serverCpu();
  return { rps, clientUs: (c.user + c.system) / requests, serverUs: (s1 - s0) / requests };
}

async function autocannonRps(url: string): Promise<{ rps: number; requests: number }> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, pipelining: 1 });
  return { rps: r.requests.total / (r.duration ?? SECONDS), requests: r.requests.total };
}

async function engineRps(url: string): Promise<{ rps: number; requests: number }> {
  const history = new HistoryRecorder();
  const r = await runScript({ scriptPath: script, env: { URL: url, HISTORY: '1' }, vus: CONNECTIONS, duration: `${SECONDS}s`, history });
  if (history.entries.length === 0) throw new Error('history recording produced nothing');
  const requests = r.metrics.http_reqs?.values.count ?? 0;
  return { rps: requests / (r.durationMs / 1000), requests };
}

const rssMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
};

const { url, child } = await startServer();
try {
  console.log(`server: node http on loopback (own process); ${CONNECTIONS} connections; ${ROUNDS} rounds of ${SECONDS} s each; machine has ${os.cpus().length} cores`);
  await autocannonRps(url); // warm-up both paths once (JIT, connection setup)
  await engineRps(url);
  const ac: Array<{ rps: number; clientUs: number; serverUs: number }> = [];
  const en: typeof ac = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = await measured(url, autocannonRps);
    const e = await measured(url, engineRps);
    ac.push(a);
    en.push(e);
    console.log(
      `round ${i + 1}: autocannon ${Math.round(a.rps)} req/s, engine ${Math.round(e.rps)} req/s (history on), ratio ${(e.rps / a.rps).toFixed(2)}; ` +
        `CPU µs/request: load generator ${a.clientUs.toFixed(1)} vs ${e.clientUs.toFixed(1)}, server ${a.serverUs.toFixed(1)} vs ${e.serverUs.toFixed(1)}`,
    );
  }
  const m = (xs: typeof ac, k: 'rps' | 'clientUs' | 'serverUs') => median(xs.map((x) => x[k]));
  const ratio = m(en, 'rps') / m(ac, 'rps');
  console.log(`median: autocannon ${Math.round(m(ac, 'rps'))} req/s, engine ${Math.round(m(en, 'rps'))} req/s; engine/autocannon = ${ratio.toFixed(2)} (target >= 0.8)`);
  console.log(
    `median CPU µs/request: autocannon ${m(ac, 'clientUs').toFixed(1)}, engine ${m(en, 'clientUs').toFixed(1)} (incl. its per-run setup); ` +
      `server ${m(ac, 'serverUs').toFixed(1)} under autocannon, ${m(en, 'serverUs').toFixed(1)} under the engine`,
  );

  // Flat memory: one long run, RSS read at 100 k requests and at the end (history off: it grows by design).
  let at100k = 0;
  const startedAt = Date.now();
  const r = await runScript({
    scriptPath: script,
    env: { URL: url, HISTORY: '0' },
    vus: CONNECTIONS,
    iterations: RSS_REQUESTS,
    progressIntervalMs: 200,
    onProgress: (p) => {
      if (!at100k && p.requests >= RSS_FIRST) at100k = rssMb();
    },
  });
  const atEnd = rssMb();
  const done = r.metrics.http_reqs?.values.count ?? 0;
  console.log(
    `RSS: ${at100k.toFixed(1)} MiB after ${RSS_FIRST} requests, ${atEnd.toFixed(1)} MiB after ${done} (${((Date.now() - startedAt) / 1000).toFixed(0)} s); ratio ${(atEnd / at100k).toFixed(2)} (target <= 1.2)`,
  );
} finally {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
}
