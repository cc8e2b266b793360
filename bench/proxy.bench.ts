/**
 * Fault-proxy overhead: GET/SET throughput and latency with 50 clients through the embedded proxy
 * (no toxics: the fast path) vs direct to the same redis-server, and, with TOXIPROXY_URL, vs a real
 * Toxiproxy in the same rotation.
 *
 *   npm run bench proxy
 *   STATEPROOF_BENCH_ROUNDS=7 STATEPROOF_BENCH_OPS=150000
 *   TOXIPROXY_URL=http://127.0.0.1:8474   (a real Toxiproxy joins every round with its own proxy)
 *   TOXIPROXY_PID=<pid>                   (also accounts that Toxiproxy's CPU per operation)
 *   STATEPROOF_BENCH_PROXY_WORKERS=0      (adds a target: the embedded proxy with `--workers 0`, its
 *                                          data path in its own process; `embedded` is the default)
 *
 * The load comes from redis-benchmark (shipped with redis-server; 50 clients is its default, no
 * pipelining, 64-byte values), so the client's own CPU cost is as small as it gets. The embedded
 * proxy runs in its own process (`stateproof proxy`), as a real Toxiproxy does.
 *
 * Pairing: every round runs each target once, back to back, and each round's figures are compared
 * within that round only (embedded/direct, Toxiproxy/direct, embedded/Toxiproxy, added p50/p99 vs
 * that round's direct run); the verdicts are medians of those per-round figures, so one noisy
 * round cannot decide them. The order of the targets changes from round to round (all orders in
 * turn), so whatever drifts during a round does not always favour the same one.
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
const ROUNDS = Math.max(1, env('STATEPROOF_BENCH_ROUNDS', 6));
const OPS = env('STATEPROOF_BENCH_OPS', 150_000);
const ONE_CLIENT_OPS = 10_000;
const BENCH_TIMEOUT_MS = 120_000;

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number, d = 1) => n.toFixed(d);

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
  /** CPU µs per operation; `proxy` is the target's proxy process (0 for direct, or when unknown). */
  cpu: { generator: number; redis: number; proxy: number; proxySys: number };
}

interface Target {
  name: string;
  port: number;
  /** The process that proxies, when known, for its CPU per operation (with its children: data workers). */
  pid?: number;
}

async function redisBenchmark(bin: string, target: Target, redisPid: number, clients: number, ops: number): Promise<Run> {
  const zero = { user: 0, sys: 0 };
  const proxyCpu = () => (target.pid ? [target.pid, ...childrenOf(target.pid)].map(cpuUs).reduce((a, b) => ({ user: a.user + b.user, sys: a.sys + b.sys })) : zero);
  const before = { gen: cpuUs('children'), redis: cpuUs(redisPid), proxy: proxyCpu() };
  const child = spawn(bin, ['-h', '127.0.0.1', '-p', String(target.port), '-c', String(clients), '-n', String(ops), '-t', 'set,get', '-d', '64', '--csv'], {
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
  const after = { gen: cpuUs('children'), redis: cpuUs(redisPid), proxy: proxyCpu() };
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

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function startProxyProcess(workers?: number): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...(process.env.STATEPROOF_BENCH_PROXY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(root, 'bin/stateproof.mjs'), 'proxy', '--port', '0', ...(workers === undefined ? [] : ['--workers', String(workers)])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

/** Every order of `xs`, so round r runs them in order r mod n!. */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));
/** On a shared machine the other users' load decides much of a round: every figure is printed with it. */
const loadAverage = () => `load ${os.loadavg().map((l) => fmt(l, 2)).join(' ')}`;

const bin = findRedisBenchmark();
const redis = await startRedisServer();
const WORKERS = process.env.STATEPROOF_BENCH_PROXY_WORKERS ? Number(process.env.STATEPROOF_BENCH_PROXY_WORKERS) : undefined;
const proxyProcess = await startProxyProcess().catch(async (e) => {
  await redis.stop();
  throw e;
});
const workersProcess = WORKERS !== undefined ? await startProxyProcess(WORKERS).catch(async (e) => (await proxyProcess.stop(), await redis.stop(), Promise.reject(e))) : undefined;
const cleanups: Array<() => Promise<unknown>> = [];
const stopAll = async () => {
  for (const c of cleanups) await c().catch(() => {});
  await proxyProcess.stop();
  await workersProcess?.stop();
  await redis.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const embedded = await new Toxiproxy(proxyProcess.url).createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
  const targets: Target[] = [
    { name: 'direct', port: redis.port },
    { name: 'embedded', port: portOf(embedded.listen), pid: proxyProcess.pid },
  ];
  if (workersProcess) {
    const w = await new Toxiproxy(workersProcess.url).createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
    targets.push({ name: `embedded-w${WORKERS}`, port: portOf(w.listen), pid: workersProcess.pid });
  }
  const realUrl = process.env.TOXIPROXY_URL;
  if (realUrl) {
    const name = `stateproof-bench-${process.pid}`;
    const real = await new Toxiproxy(realUrl).createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
    cleanups.push(() => real.remove());
    const pid = process.env.TOXIPROXY_PID ? Number(process.env.TOXIPROXY_PID) : undefined;
    targets.push({ name: 'toxiproxy', port: portOf(real.listen), pid });
    console.log(`real Toxiproxy at ${realUrl}: proxy ${name} on ${portOf(real.listen)}${pid ? `, pid ${pid}` : ' (set TOXIPROXY_PID for its CPU)'}`);
  }
  const hasReal = targets.some((t) => t.name === 'toxiproxy');
  // Ours, each compared with Toxiproxy round by round.
  const embeddedKinds = targets.filter((t) => t.name.startsWith('embedded')).map((t) => t.name);
  console.log(`redis-server ${redis.port}, embedded proxy ${targets[1]!.port}; ${CLIENTS} clients, ${OPS} SET + ${OPS} GET per run; ${ROUNDS} rounds; ${os.cpus().length} cores; ${loadAverage()}`);
  for (const t of targets) await redisBenchmark(bin, t, redis.pid, CLIENTS, OPS / 5); // warm-up (JIT, connections)

  // Up to 3 targets: every order in turn. 4: a Williams square (each target runs first once per 4
  // rounds and follows every other target once), since 24 orders would take 24 rounds to balance.
  const orders = targets.length === 4 ? [0, 1, 2, 3].map((r) => [0, 1, 3, 2].map((i) => targets[(i + r) % 4]!)) : permutations(targets);
  type Round = Record<string, Run>;
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = orders[r % orders.length]!;
    const round: Round = {};
    for (const t of order) round[t.name] = await redisBenchmark(bin, t, redis.pid, CLIENTS, OPS);
    rounds.push(round);
    const d = round.direct!;
    const x = round.toxiproxy;
    const show = (name: string, run: Run) => `${name} ${fmt(run.opsPerSec, 0)} ops/s p50 ${fmt(run.p50Ms, 3)} p99 ${fmt(run.p99Ms, 3)}`;
    const vsDirect = targets.slice(1).map((t) => `${show(t.name, round[t.name]!)} (${fmt(round[t.name]!.opsPerSec / d.opsPerSec, 2)}×)`);
    const vsReal = x ? embeddedKinds.map((k) => `${k}/toxiproxy ${fmt(round[k]!.opsPerSec / x.opsPerSec, 3)}, added p50 ${fmt(round[k]!.p50Ms - d.p50Ms, 3)} vs ${fmt(x.p50Ms - d.p50Ms, 3)} ms`) : [];
    console.log(`round ${r + 1} [${order.map((t) => t.name).join(' > ')}]: ${[show('direct', d), ...vsDirect, ...vsReal].join(' | ')} | ${loadAverage()}`);
  }

  const per = (f: (r: Round) => number) => median(rounds.map(f));
  console.log(`after the rounds: ${loadAverage()}`);
  const of = (name: string, pick: (r: Run) => number) => per((r) => pick(r[name]!));
  console.log(`\nGET/SET, ${CLIENTS} clients, ${ROUNDS} paired rounds (medians of per-round figures):`);
  for (const t of targets) {
    const added = t.name === 'direct' ? '' : `   vs direct ${fmt(per((r) => r[t.name]!.opsPerSec / r.direct!.opsPerSec), 2)}×, added p50 ${fmt(per((r) => r[t.name]!.p50Ms - r.direct!.p50Ms), 3)} ms, added p99 ${fmt(per((r) => r[t.name]!.p99Ms - r.direct!.p99Ms), 3)} ms`;
    console.log(`  ${t.name.padEnd(9)} ${fmt(of(t.name, (r) => r.opsPerSec), 0).padStart(6)} ops/s   p50 ${fmt(of(t.name, (r) => r.p50Ms), 3)} ms   p99 ${fmt(of(t.name, (r) => r.p99Ms), 3)} ms${added}`);
  }
  if (hasReal) {
    for (const k of embeddedKinds) {
      const ratios = rounds.map((r) => r[k]!.opsPerSec / r.toxiproxy!.opsPerSec);
      console.log(`  ${k}/toxiproxy throughput per round: ${ratios.map((x) => fmt(x, 3)).join(', ')}; median ${fmt(median(ratios), 3)} (target >= 1.0)`);
      console.log(`  added p50 ${k} ${fmt(per((r) => r[k]!.p50Ms - r.direct!.p50Ms), 3)} ms vs toxiproxy ${fmt(per((r) => r.toxiproxy!.p50Ms - r.direct!.p50Ms), 3)} ms (target: ${k} <= toxiproxy)`);
      const p50Gaps = rounds.map((r) => r[k]!.p50Ms - r.toxiproxy!.p50Ms);
      console.log(`  p50 ${k} - toxiproxy per round (ms): ${p50Gaps.map((x) => fmt(x, 3)).join(', ')}; median ${fmt(median(p50Gaps), 3)} (target <= 0)`);
    }
  }
  if (embeddedKinds.length > 1) {
    const ratios = rounds.map((r) => r[embeddedKinds[1]!]!.opsPerSec / r.embedded!.opsPerSec);
    console.log(`  ${embeddedKinds[1]}/embedded throughput per round: ${ratios.map((x) => fmt(x, 3)).join(', ')}; median ${fmt(median(ratios), 3)}`);
  }

  // The proxy's own cost per hop, without 50 clients queueing for the CPU; same pairing.
  const one: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round: Round = {};
    for (const t of orders[r % orders.length]!) round[t.name] = await redisBenchmark(bin, t, redis.pid, 1, ONE_CLIENT_OPS);
    one.push(round);
  }
  const onePer = (f: (r: Round) => number) => median(one.map(f));
  for (const t of targets.slice(1)) {
    console.log(
      `  1 client, ${t.name}: added p50 ${fmt(onePer((r) => r[t.name]!.p50Ms - r.direct!.p50Ms), 3)} ms, added p99 ${fmt(onePer((r) => r[t.name]!.p99Ms - r.direct!.p99Ms), 3)} ms (direct p50 ${fmt(onePer((r) => r.direct!.p50Ms), 3)} ms)`,
    );
  }

  const cores = (us: number, opsPerSec: number) => (us * opsPerSec) / 1e6;
  const dTotal = of('direct', (r) => r.cpu.generator + r.cpu.redis);
  console.log(`\nCPU per operation (µs, user + system, median):`);
  console.log(`  direct:    load generator ${fmt(of('direct', (r) => r.cpu.generator))} + redis ${fmt(of('direct', (r) => r.cpu.redis))} = ${fmt(dTotal)}   (${fmt(cores(dTotal, of('direct', (r) => r.opsPerSec)), 2)} cores busy)`);
  for (const t of targets.slice(1)) {
    const total = of(t.name, (r) => r.cpu.generator + r.cpu.redis + r.cpu.proxy);
    const proxy = t.pid ? ` + proxy ${fmt(of(t.name, (r) => r.cpu.proxy))} (kernel ${fmt(of(t.name, (r) => r.cpu.proxySys))})` : ' + proxy (unknown)';
    console.log(
      `  ${(t.name + ':').padEnd(10)} load generator ${fmt(of(t.name, (r) => r.cpu.generator))} + redis ${fmt(of(t.name, (r) => r.cpu.redis))}${proxy} = ${fmt(total)}   (${fmt(cores(total, of(t.name, (r) => r.opsPerSec)), 2)} cores busy)`,
    );
  }
} finally {
  await stopAll();
}
