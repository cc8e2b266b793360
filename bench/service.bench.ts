/**
 * Turn appends through the reference service vs. the same Redis doing the service's store work
 * directly, in one run:
 *
 *   service  64 HTTP connections (undici Pool) → stateproof-service (child process, model latency 0)
 *            → Redis: GET + ZSCORE, then EVALSHA of the compare-and-set script
 *   raw      64 concurrent loops on one auto-pipelined ioredis connection doing the same two round
 *            trips (GET + ZSCORE, EVALSHA of the same script with a prebuilt envelope)
 *
 * Each of ROUNDS short rounds measures both, alternating; the medians are printed with their ratio.
 * Every worker owns one session, so appends never contend (contention is the tests' subject).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { Redis } from 'ioredis';
import { turnsPath } from '../src/contract/wire.ts';
import { LatencyHistogram, latencyUs } from '../src/record/hdr.ts';
import { startRedisServer } from '../src/topology/redis-server.ts';
import { CAS_APPEND_LUA } from '../reference-service/store/cas-script.ts';
import { sessionKey, turnIdsKey } from '../reference-service/store/keys.ts';
import { encodeEnvelope } from '../reference-service/schema/envelope.ts';

const CONNECTIONS = 64;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 4_000);
const WARMUP_MS = 2_000;
const here = path.dirname(fileURLToPath(import.meta.url));

interface Figures {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function timed(workers: number, durationMs: number, op: (worker: number, seq: number) => Promise<boolean>): Promise<Figures> {
  const h = new LatencyHistogram();
  let ops = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let seq = 0; performance.now() < end; seq++) {
        const s = performance.now();
        const ok = await op(w, seq);
        if (ok) {
          ops++;
          h.recordUs(latencyUs(performance.now() - s));
        } else errors++;
      }
    }),
  );
  const elapsedS = (performance.now() - t0) / 1000;
  return { opsPerSec: ops / elapsedS, p50Ms: h.histogram.getValueAtPercentile(50) / 1000, p99Ms: h.histogram.getValueAtPercentile(99) / 1000, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await using redis = await startRedisServer();
  const child = spawn(process.execPath, [path.join(here, '../bin/stateproof-service.mjs'), '--redis', redis.url, '--port', '0', '--model-latency-ms', '0', '--max-inflight', '4096'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await Promise.race([
      once(createInterface({ input: child.stdout! }), 'line'),
      once(child, 'exit').then(() => {
        throw new Error('stateproof-service exited before it was ready');
      }),
    ])) as [string];
    const url = line.replace(/^stateproof-service listening on /, '');
    const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
    const headers = { authorization: 'Bearer tenant-a-token', 'content-type': 'application/json' };
    let round = 0;
    const viaService = async (w: number, seq: number): Promise<boolean> => {
      const res = await pool.request({ method: 'POST', path: turnsPath(`svc-${w}`), headers, body: `{"turnId":"r${round}-${seq}","content":"hello number ${seq}"}` });
      await res.body.dump();
      return res.statusCode === 200;
    };

    const client = new Redis(redis.url, { enableAutoPipelining: true });
    client.defineCommand('spCasAppend', { numberOfKeys: 2, lua: CAS_APPEND_LUA });
    const cas = (client as unknown as { spCasAppend: (...a: Array<string | number>) => Promise<[number, number, number]> }).spCasAppend.bind(client);
    // A window-sized envelope like the service stores (10 turns of the same shape).
    const turn = { turnId: 'r0-0', user: 'hello number 0', assistant: 'Noted (14 chars). Context: 10 recent turns, 0 pinned facts, 100 turns in all.', atMs: Date.now() };
    const data = { turns: Array.from({ length: 10 }, () => turn), turnCount: 100, summary: { compactedTurns: 90, pinned: [], text: '90 earlier turns compacted.' }, createdAtMs: 0, updatedAtMs: 0 };
    const revisions = new Map<number, number>();
    const direct = async (w: number, seq: number): Promise<boolean> => {
      const key = sessionKey('bench', `raw-${w}`);
      const ids = turnIdsKey('bench', `raw-${w}`);
      const turnId = `r${round}-${seq}`;
      await Promise.all([client.get(key), client.zscore(ids, turnId)]);
      const rev = revisions.get(w) ?? 0;
      const [status, newRev] = await cas(key, ids, rev, encodeEnvelope(3, rev + 1, data), turnId, 86_400, 3, 1_000, Date.now() + 100);
      if (status !== 1) return false;
      revisions.set(w, newRev);
      return true;
    };

    await timed(CONNECTIONS, WARMUP_MS, viaService);
    await timed(CONNECTIONS, WARMUP_MS / 2, direct);
    const svc: Figures[] = [];
    const raw: Figures[] = [];
    for (round = 1; round <= ROUNDS; round++) {
      svc.push(await timed(CONNECTIONS, ROUND_MS, viaService));
      raw.push(await timed(CONNECTIONS, ROUND_MS, direct));
      const s = svc.at(-1)!;
      const r = raw.at(-1)!;
      console.log(`round ${round}: service ${s.opsPerSec.toFixed(0)} turns/s (p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, ${s.errors} non-200) | raw ${r.opsPerSec.toFixed(0)} appends/s (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms)`);
    }
    const m = (xs: Figures[], k: keyof Figures) => median(xs.map((x) => x[k]));
    const sRate = m(svc, 'opsPerSec');
    const rRate = m(raw, 'opsPerSec');
    console.log(`\nmedian of ${ROUNDS} rounds × ${ROUND_MS} ms, ${CONNECTIONS} connections, model latency 0:`);
    console.log(`  service  ${sRate.toFixed(0).padStart(7)} turns/s    p50 ${m(svc, 'p50Ms').toFixed(2)} ms  p99 ${m(svc, 'p99Ms').toFixed(2)} ms`);
    console.log(`  raw      ${rRate.toFixed(0).padStart(7)} appends/s  p50 ${m(raw, 'p50Ms').toFixed(2)} ms  p99 ${m(raw, 'p99Ms').toFixed(2)} ms   (GET+ZSCORE, EVALSHA cas)`);
    console.log(`  ratio service/raw: ${(sRate / rRate).toFixed(2)}   target ≥ 5000 turns/s: ${sRate >= 5_000 ? 'met' : 'NOT met'}`);
    await pool.close();
    client.disconnect();
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

await main();
