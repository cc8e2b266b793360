/**
 * A small k6 script that makes one request per iteration and classifies what came back the way a
 * careful scenario would, into one counter per outcome, so a test can read the counts from the
 * engine's summary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineResult } from '../../src/engine/index.ts';

export const OUTCOMES = ['ok', 'timeout', 'transport', 'too_large', 'redirect_refused', 'odd_status', 'wrong_type', 'bad_json'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const SOURCE = `import http from 'k6/http';
import { Counter } from 'k6/metrics';

const counters = {};
for (const name of ${JSON.stringify(OUTCOMES)}) counters[name] = new Counter('o_' + name);
const CONTRACT = [200, 201, 204, 400, 401, 404, 409, 413, 503];

export const options = { vus: Number(__ENV.VUS || 2), iterations: Number(__ENV.ITERATIONS || 6) };

function classify(res) {
  if (res.error_code === 1050) return 'timeout';
  if (res.error_code === 1111) return 'redirect_refused';
  if (res.error && res.error.indexOf('response body larger than') >= 0) return 'too_large';
  if (res.status === 0) return 'transport';
  if (CONTRACT.indexOf(res.status) < 0) return 'odd_status';
  if (!/^application\\/(problem\\+)?json/.test(res.headers['Content-Type'] || '')) return 'wrong_type';
  try {
    JSON.parse(res.body);
  } catch (e) {
    return 'bad_json';
  }
  return 'ok';
}

export default async function () {
  const body = __ENV.METHOD === 'POST' ? JSON.stringify({ turnId: 't' + __VU + '-' + __ITER, content: 'hello' }) : null;
  const res = await http.asyncRequest(__ENV.METHOD || 'GET', __ENV.URL + '/v1/sessions/s' + __VU + (__ENV.METHOD === 'POST' ? '/turns' : ''), body, {
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tenant-a-token' },
    timeout: __ENV.TIMEOUT || '1s',
    responseType: __ENV.RESPONSE_TYPE || 'text',
  });
  counters[classify(res)].add(1);
}
`;

export function writeClassifierScript(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-hardening-'));
  const file = path.join(dir, 'classify.js');
  writeFileSync(file, SOURCE);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Outcome → count, from the engine's summary (absent counters are 0). */
export function outcomeCounts(r: EngineResult): Record<Outcome, number> {
  const out = {} as Record<Outcome, number>;
  for (const o of OUTCOMES) out[o] = r.metrics[`o_${o}`]?.values.count ?? 0;
  return out;
}
