/**
 * How closely real runs of the open-model executors keep to their schedule on this machine: the
 * wall-clock figures the tests no longer assert (a busy box moves them; the tests check the
 * schedule itself on a fake clock, test/engine/arrival-rate.test.ts).
 *
 *   npm run bench schedule
 *   STATEPROOF_BENCH_ROUNDS=3
 *
 *   constant   200/s for 3 s, 20..50 VUs: iterations started, dropped (%), achieved rate
 *   ramping    0 → 100/s over 1 s, then 100/s for 1 s: completed of the 149 due
 *   stall      200/s for 3 s on one VU, request 150 held 1 s: service-time vs corrected p99
 *
 * The server is in this process, as in the tests, so the figures are what a test would have seen.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runScript } from '../src/engine/index.ts';
import { mergeSnapshots, percentilesMs } from '../src/record/hdr.ts';

const ROUNDS = Number(process.env.STATEPROOF_BENCH_ROUNDS ?? 3);

async function startServer(stallRequest: number): Promise<{ url: string; reset(): void; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const k = ++n;
    req.resume();
    req.on('end', () => {
      const answer = () => res.writeHead(200).end('ok');
      if (k === stallRequest) setTimeout(answer, 1_000);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    reset: () => (n = 0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-bench-schedule-'));
function script(name: string, options: string): string {
  const file = path.join(dir, `${name}.js`);
  writeFileSync(file, `import http from 'k6/http';
export const options = ${options};
export default async function () { await http.asyncRequest('GET', __ENV.URL); }
`);
  return file;
}

const CONSTANT = script('constant', `{ scenarios: { s: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 20, maxVUs: 50 } } }`);
const RAMPING = script(
  'ramping',
  `{ scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 10, maxVUs: 20, stages: [{ target: 100, duration: '1s' }, { target: 100, duration: '1s' }] } } }`,
);
const STALL = script('stall', `{ scenarios: { s: { executor: 'constant-arrival-rate', rate: 200, timeUnit: '1s', duration: '3s', preAllocatedVUs: 1, maxVUs: 1 } } }`);

const plain = await startServer(0);
const stalling = await startServer(150);
try {
  console.log(`${ROUNDS} rounds; machine has ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (let i = 1; i <= ROUNDS; i++) {
    const c = await runScript({ scriptPath: CONSTANT, env: { URL: plain.url } });
    const cDone = c.metrics.iterations?.values.count ?? 0;
    console.log(
      `round ${i} constant: ${cDone + c.droppedIterations} scheduled of 600, ${cDone} completed, ${c.droppedIterations} dropped ` +
        `(${((100 * c.droppedIterations) / 600).toFixed(1)} %), ${(cDone / 3).toFixed(0)}/s achieved of 200/s`,
    );

    const r = await runScript({ scriptPath: RAMPING, env: { URL: plain.url } });
    const rDone = r.metrics.iterations?.values.count ?? 0;
    console.log(`round ${i} ramping: ${rDone} completed of 149 due (ratio ${(rDone / 149).toFixed(3)}), ${r.droppedIterations} dropped`);

    stalling.reset();
    const s = await runScript({ scriptPath: STALL, env: { URL: stalling.url } });
    const of = (kind: string) => percentilesMs(mergeSnapshots(s.hdr.filter((h) => h.metric === 'http_req_duration' && h.kind === kind)).histogram);
    const service = of('value');
    const corrected = of('corrected');
    console.log(
      `round ${i} stall: service p99 ${service.p99Ms.toFixed(1)} ms (max ${service.maxMs.toFixed(0)}), corrected p99 ${corrected.p99Ms.toFixed(1)} ms; ` +
        `corrected/service p99 ${(corrected.p99Ms / service.p99Ms).toFixed(1)}x; ${s.droppedIterations} dropped`,
    );
  }
} finally {
  await plain.close();
  await stalling.close();
  rmSync(dir, { recursive: true, force: true });
}
