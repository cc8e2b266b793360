/**
 * Fault-proxy overhead: GET/SET throughput and latency with 50 clients through the embedded
 * proxy (no toxics: the fast path) vs direct to the same redis-server, in one run.
 *
 * The proxy runs in its own process (`stateproof proxy`), as it does in a topology, so it does
 * not share an event loop with the load. Rounds alternate direct / proxy so drift in machine load
 * hits both; figures are medians over the rounds. Target: throughput ratio >= 0.7, added p50 <= 0.2 ms.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startRedisServer } from '../src/topology/redis-server.ts';

const CLIENTS = 50;
const ROUNDS = 5;
const ROUND_MS = 2_000;
const WARMUP_MS = 1_000;

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

interface RoundResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function load(port: number, ms: number, clientCount = CLIENTS): Promise<RoundResult> {
  const clients = Array.from({ length: clientCount }, () => new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 }));
  await Promise.all(clients.map((c) => c.connect()));
  const latenciesUs: number[] = [];
  let ops = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    clients.map(async (c, i) => {
      let n = 0;
      while (performance.now() < deadline) {
        const key = `bench:${i}:${n++ % 100}`;
        let t = performance.now();
        await c.set(key, 'v'.repeat(64));
        latenciesUs.push(Math.round((performance.now() - t) * 1000));
        t = performance.now();
        await c.get(key);
        latenciesUs.push(Math.round((performance.now() - t) * 1000));
        ops += 2;
      }
    }),
  );
  for (const c of clients) c.disconnect();
  latenciesUs.sort((a, b) => a - b);
  const pct = (p: number) => latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(latenciesUs.length * p))]! / 1000;
  return { opsPerSec: ops / (ms / 1000), p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startProxyProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
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
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const redis = await startRedisServer();
const proxyProcess = await startProxyProcess().catch(async (e) => {
  await redis.stop();
  throw e;
});
const stopAll = async () => {
  await proxyProcess.stop();
  await redis.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  const proxy = await new Toxiproxy(proxyProcess.url).createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redis.port}` });
  const proxyPort = Number(proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1));
  await load(redis.port, WARMUP_MS);
  await load(proxyPort, WARMUP_MS);
  const direct: RoundResult[] = [];
  const proxied: RoundResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await load(redis.port, ROUND_MS));
    proxied.push(await load(proxyPort, ROUND_MS));
    const d = direct.at(-1)!;
    const p = proxied.at(-1)!;
    console.log(`round ${round + 1}: direct ${d.opsPerSec.toFixed(0)} ops/s p50 ${d.p50Ms.toFixed(3)} ms | proxy ${p.opsPerSec.toFixed(0)} ops/s p50 ${p.p50Ms.toFixed(3)} ms`);
  }
  const ratio = median(proxied.map((r) => r.opsPerSec)) / median(direct.map((r) => r.opsPerSec));
  const addedP50Ms = median(proxied.map((r) => r.p50Ms)) - median(direct.map((r) => r.p50Ms));
  const addedP99Ms = median(proxied.map((r) => r.p99Ms)) - median(direct.map((r) => r.p99Ms));
  console.log(`\nGET/SET, ${CLIENTS} clients, median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s:`);
  console.log(`  direct   ${median(direct.map((r) => r.opsPerSec)).toFixed(0)} ops/s   p50 ${median(direct.map((r) => r.p50Ms)).toFixed(3)} ms   p99 ${median(direct.map((r) => r.p99Ms)).toFixed(3)} ms`);
  console.log(`  proxy    ${median(proxied.map((r) => r.opsPerSec)).toFixed(0)} ops/s   p50 ${median(proxied.map((r) => r.p50Ms)).toFixed(3)} ms   p99 ${median(proxied.map((r) => r.p99Ms)).toFixed(3)} ms`);
  console.log(`  throughput ratio proxy/direct: ${ratio.toFixed(2)}   (target >= 0.70)`);
  console.log(`  added p50: ${addedP50Ms.toFixed(3)} ms   (target <= 0.200)   added p99: ${addedP99Ms.toFixed(3)} ms`);
  // The proxy's own cost per hop, without 50 clients queueing for the CPU: one client, same ops.
  const one = { direct: [] as number[], proxy: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    one.direct.push((await load(redis.port, 1_000, 1)).p50Ms);
    one.proxy.push((await load(proxyPort, 1_000, 1)).p50Ms);
  }
  console.log(`  1 client: direct p50 ${median(one.direct).toFixed(3)} ms, proxy p50 ${median(one.proxy).toFixed(3)} ms, added ${(median(one.proxy) - median(one.direct)).toFixed(3)} ms`);
} finally {
  await stopAll();
}
