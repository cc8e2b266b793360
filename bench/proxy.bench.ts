/**
 * Fault-proxy overhead: GET/SET throughput and latency with 50 clients through the embedded proxy
 * (no toxics: the fast path) vs direct to the same redis-server, in one run.
 *
 *   npm run bench proxy
 *   STATEPROOF_BENCH_ROUNDS=5 STATEPROOF_BENCH_OPS=150000
 *   TOXIPROXY_URL=http://127.0.0.1:8474   (also measures a real Toxiproxy in the same rotation)
 *
 * The load comes from redis-benchmark (shipped with redis-server; 50 clients is its default, no
 * pipelining, 64-byte values), so the client's own CPU cost is as small as it gets: a Node client
 * on the same two cores took a visible share of the CPU the proxy needs. The proxy runs in its own
 * process (`stateproof proxy`), as in a topology. Rounds alternate direct / proxy so drift in machine
 * load hits both; figures are medians over the rounds. Target: ratio >= 0.7, added p50 <= 0.2 ms.
 *
 * It also accounts the CPU each process spends per operation (from /proc), which says what this
 * box allows: when the load generator, Redis and the proxy share the cores and all are busy,
 * throughput is bounded by their total CPU per operation.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startRedisServer } from '../src/topology/redis-server.ts';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const CLIENTS = 50;
const ROUNDS = env('STATEPROOF_BENCH_ROUNDS', 5);
const OPS = env('STATEPROOF_BENCH_OPS', 150_000);
const BENCH_TIMEOUT_MS = 120_000;

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function findRedisBenchmark(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-benchmark'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('redis-benchmark not found: it ships with redis-server (Debian: apt-get install -y redis-tools).');
    process.exit(3);
  }
}

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || '100');

/** user and system CPU (µs) of `pid`, or of this process's waited-for children for 'children'. */
function cpuUs(pid: number | 'children'): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid === 'children' ? 'self' : pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3 (state)
  return pid === 'children' ? { user: f[13]! * TICK_US, sys: f[14]! * TICK_US } : { user: f[11]! * TICK_US, sys: f[12]! * TICK_US };
}

interface Run {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per operation. */
  cpu: { generator: number; redis: number; proxy: number; proxySys: number };
}

async function redisBenchmark(bin: string, port: number, clients: number, ops: number, pids: { redis: number; proxy: number }): Promise<Run> {
  const before = { gen: cpuUs('children'), redis: cpuUs(pids.redis), proxy: cpuUs(pids.proxy) };
  const child = spawn(bin, ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(ops), '-t', 'set,get', '-d', '64', '--csv'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), BENCH_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`redis-benchmark exited with ${code}: ${err.trim() || out.trim()}`);
  const after = { gen: cpuUs('children'), redis: cpuUs(pids.redis), proxy: cpuUs(pids.proxy) };
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const rows = out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map((c) => c.replace(/"/g, '')));
  if (rows.length !== 2) throw new Error(`unexpected redis-benchmark output: ${out}`);
  const total = 2 * ops;
  const spent = (a: { user: number; sys: number }, b: { user: number; sys: number }) => (b.user + b.sys - a.user - a.sys) / total;
  return {
    // Both tests ran `ops` operations: the combined rate is the harmonic mean of theirs. SET and GET
    // latencies are reported apart: p50 here is the mean of the two medians (they differ by a few
    // µs), p99 the larger of the two.
    opsPerSec: 2 / rows.reduce((s, r) => s + 1 / Number(r[1]), 0),
    p50Ms: (Number(rows[0]![4]) + Number(rows[1]![4])) / 2,
    p99Ms: Math.max(Number(rows[0]![6]), Number(rows[1]![6])),
    cpu: {
      generator: spent(before.gen, after.gen),
      redis: spent(before.redis, after.redis),
      proxy: spent(before.proxy, after.proxy),
      proxySys: (after.proxy.sys - before.proxy.sys) / total,
    },
  };
}

async function startProxyProcess(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(root, 'bin/stateproof.mjs'), 'proxy', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`stateproof proxy did not print its URL within 15 s: ${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`stateproof proxy exited with ${code}: ${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const bin = findRedisBenchmark();
const redis = await startRedisServer();
const proxyProcess = await startProxyProcess().catch(async (e) => {
  await redis.stop();
  throw e;
});
const cleanups: Array<() => Promise<unknown>> = [];
const stopAll = async () => {
  for (const c of cleanups) await c().catch(() => {});
  await proxyProcess.stop();
  await redis.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

const fmt = (n: number, d = 1) => n.toFixed(d);
try {
  const proxy = await new Toxiproxy(proxyProcess.url).createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
  const proxyPort = Number(proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1));
  const pids = { redis: redis.pid, proxy: proxyProcess.pid };
  console.log(`redis-server ${redis.port}, proxy ${proxyPort}; ${CLIENTS} clients, ${OPS} SET + ${OPS} GET per run; ${ROUNDS} rounds; ${os.cpus().length} cores`);
  // A real Toxiproxy, when given, joins the rotation with a proxy of its own to the same Redis.
  const realUrl = process.env.TOXIPROXY_URL;
  let realPort: number | undefined;
  if (realUrl) {
    const name = `stateproof-bench-${process.pid}`;
    const real = await new Toxiproxy(realUrl).createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
    realPort = Number(real.listen.slice(real.listen.lastIndexOf(':') + 1));
    cleanups.push(() => real.remove());
    console.log(`real Toxiproxy at ${realUrl}: proxy ${name} on ${realPort}`);
  }
  await redisBenchmark(bin, redis.port, CLIENTS, OPS / 5, pids); // warm-up (JIT, connections)
  await redisBenchmark(bin, proxyPort, CLIENTS, OPS / 5, pids);
  const direct: Run[] = [];
  const proxied: Run[] = [];
  const realRuns: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await redisBenchmark(bin, redis.port, CLIENTS, OPS, pids));
    proxied.push(await redisBenchmark(bin, proxyPort, CLIENTS, OPS, pids));
    if (realPort !== undefined) realRuns.push(await redisBenchmark(bin, realPort, CLIENTS, OPS, pids));
    const d = direct.at(-1)!;
    const p = proxied.at(-1)!;
    const r = realRuns.at(-1);
    console.log(
      `round ${round + 1}: direct ${d.opsPerSec.toFixed(0)} ops/s p50 ${fmt(d.p50Ms, 3)} ms | proxy ${p.opsPerSec.toFixed(0)} ops/s p50 ${fmt(p.p50Ms, 3)} ms | ratio ${fmt(p.opsPerSec / d.opsPerSec, 2)}` +
        (r ? ` | real Toxiproxy ${r.opsPerSec.toFixed(0)} ops/s, ratio ${fmt(r.opsPerSec / d.opsPerSec, 2)}` : ''),
    );
  }
  const m = (runs: Run[], pick: (r: Run) => number) => median(runs.map(pick));
  const ratio = m(proxied, (r) => r.opsPerSec) / m(direct, (r) => r.opsPerSec);
  const addedP50Ms = m(proxied, (r) => r.p50Ms) - m(direct, (r) => r.p50Ms);
  console.log(`\nGET/SET, ${CLIENTS} clients, median of ${ROUNDS} rounds:`);
  console.log(`  direct   ${m(direct, (r) => r.opsPerSec).toFixed(0)} ops/s   p50 ${fmt(m(direct, (r) => r.p50Ms), 3)} ms   p99 ${fmt(m(direct, (r) => r.p99Ms), 3)} ms`);
  console.log(`  proxy    ${m(proxied, (r) => r.opsPerSec).toFixed(0)} ops/s   p50 ${fmt(m(proxied, (r) => r.p50Ms), 3)} ms   p99 ${fmt(m(proxied, (r) => r.p99Ms), 3)} ms`);
  console.log(`  throughput ratio proxy/direct: ${fmt(ratio, 2)}   (target >= 0.70)`);
  console.log(`  added p50: ${fmt(addedP50Ms, 3)} ms   (target <= 0.200)`);
  if (realRuns.length) {
    const realRatio = m(realRuns, (r) => r.opsPerSec) / m(direct, (r) => r.opsPerSec);
    console.log(`  real Toxiproxy ${m(realRuns, (r) => r.opsPerSec).toFixed(0)} ops/s   p50 ${fmt(m(realRuns, (r) => r.p50Ms), 3)} ms   ratio ${fmt(realRatio, 2)} (same rotation)`);
  }

  // The proxy's own cost per hop, without 50 clients queueing for the CPU.
  const one = { direct: [] as number[], proxy: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    one.direct.push((await redisBenchmark(bin, redis.port, 1, 10_000, pids)).p50Ms);
    one.proxy.push((await redisBenchmark(bin, proxyPort, 1, 10_000, pids)).p50Ms);
  }
  console.log(`  1 client: direct p50 ${fmt(median(one.direct), 3)} ms, proxy p50 ${fmt(median(one.proxy), 3)} ms, added ${fmt(median(one.proxy) - median(one.direct), 3)} ms`);

  const d = { gen: m(direct, (r) => r.cpu.generator), redis: m(direct, (r) => r.cpu.redis) };
  const p = { gen: m(proxied, (r) => r.cpu.generator), redis: m(proxied, (r) => r.cpu.redis), proxy: m(proxied, (r) => r.cpu.proxy), proxySys: m(proxied, (r) => r.cpu.proxySys) };
  const dTotal = d.gen + d.redis;
  const pTotal = p.gen + p.redis + p.proxy;
  const cores = (us: number, opsPerSec: number) => (us * opsPerSec) / 1e6;
  console.log(`\nCPU per operation (µs, user + system, median):`);
  console.log(`  direct:  load generator ${fmt(d.gen)} + redis ${fmt(d.redis)} = ${fmt(dTotal)}   (${fmt(cores(dTotal, m(direct, (r) => r.opsPerSec)), 2)} cores busy)`);
  console.log(
    `  proxied: load generator ${fmt(p.gen)} + redis ${fmt(p.redis)} + proxy ${fmt(p.proxy)} (kernel ${fmt(p.proxySys)}) = ${fmt(pTotal)}   (${fmt(cores(pTotal, m(proxied, (r) => r.opsPerSec)), 2)} cores busy)`,
  );
  console.log(`  CPU-bound ratio (direct CPU/op over proxied CPU/op): ${fmt(dTotal / pTotal, 2)}; with a proxy costing only its kernel time: ${fmt(dTotal / (pTotal - p.proxy + p.proxySys), 2)}`);
} finally {
  await stopAll();
}
