/**
 * Property-based fuzzing of the history sink, the one HTTP surface that runners on other machines
 * reach. Every generated request is well-framed HTTP/1.1 with random and adversarial paths, tokens,
 * runner and batch ids (often repeated, as retries are), and bodies: valid batches, entries with
 * one field broken, oversized batches, JSON that is no batch, raw bytes. A model of the sink says
 * what each request must do; checked after every request:
 *   - an answer comes within 10 s, with a status the sink documents (never a 5xx);
 *   - 401 exactly when the token is wrong, 404 for another run or path, 413 past the limits;
 *   - a batch is applied (204) exactly when the model says it is new and valid, and then every one
 *     of its entries is recorded, in order; a repeat of an applied id answers 200 and adds nothing;
 *   - every recorded entry has the shape the checkers rely on;
 *   - the sink's counts equal the model's;
 * and over the run the retained heap grows by less than a generous bound.
 *
 * Exactly RUNS cases (fuzzParameters fails the test rather than cutting cases). STATEPROOF_FUZZ_LONG=1
 * runs 20x more; STATEPROOF_FUZZ_SEED replays another seed.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder, startHistorySink, type HistorySinkServer } from '../../src/record/sink.ts';
import { entryProblem } from '../../src/record/sink-protocol.ts';
import { fuzzParameters, fuzzRuns, fuzzSeed, fuzzTestTimeoutMs, retainedHeapBytes } from './fixtures/fuzz.ts';
import { rawRequest } from './fixtures/raw-http.ts';

const SEED = fuzzSeed(18_018);
const RUNS = fuzzRuns(400);
const MAX_ENTRIES = 50;
const MAX_BYTES = 64 * 1024;
const HEAP_GROWTH_LIMIT_BYTES = 128 * 1024 * 1024;
const DOCUMENTED = new Set([200, 204, 400, 401, 404, 405, 413, 429]);

const anyText = (maxLength: number) => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }));
const id = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('r1', 'r2', 'segment-0:1/3', 'k6') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,10}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '-lead', 'a b', 'a/b', '../x', 'x'.repeat(129), '%00', 'é') },
);
const batchId = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) }, { weight: 1, arbitrary: id });

const goodEntry = fc.record(
  {
    op: fc.constantFrom('append', 'read', 'delete'),
    session: fc.stringMatching(/^[a-z0-9]{1,8}$/),
    turnId: fc.stringMatching(/^[a-z0-9-]{1,12}$/),
    intendedStartMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
    startMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
    endMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
    outcome: fc.constantFrom('ok', 'fail', 'unknown'),
    status: fc.constantFrom(0, 200, 404, 409, 503, 500),
    vu: fc.nat(64),
    revision: fc.nat(1000),
    turnIds: fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { maxLength: 5 }),
    mode: fc.constantFrom('normal', 'degraded'),
  },
  { requiredKeys: ['op', 'session', 'intendedStartMs', 'startMs', 'endMs', 'outcome', 'status', 'vu'] },
);
const junk = fc.oneof(fc.constant(null), fc.string({ maxLength: 5 }), fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant(1e309));
const brokenEntry = fc
  .tuple(goodEntry, fc.constantFrom('op', 'session', 'startMs', 'outcome', 'status', 'vu', 'revision', 'turnIds', 'mode', 'consistency', 'applied'), junk)
  .map(([e, k, v]) => ({ ...e, [k]: v }) as Record<string, unknown>);
const body = fc.oneof(
  { weight: 6, arbitrary: fc.array(goodEntry, { minLength: 1, maxLength: 8 }).map((a) => JSON.stringify(a)) },
  { weight: 2, arbitrary: fc.tuple(fc.array(goodEntry, { maxLength: 3 }), brokenEntry).map(([a, b]) => JSON.stringify([...a, b])) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify(Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => ({ op: 'read', session: 's', intendedStartMs: i, startMs: i, endMs: i, outcome: 'ok', status: 200, vu: 1 })))) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify([{ op: 'read', session: 's', intendedStartMs: 1, startMs: 1, endMs: 1, outcome: 'ok', status: 200, vu: 1, summary: 'x'.repeat(MAX_BYTES) }])) },
  { weight: 1, arbitrary: fc.constantFrom('', '[', 'null', '[]', '[null]', '{}', '"x"', '1e309', '['.repeat(20_000), '{"op":"append"}') },
  { weight: 1, arbitrary: anyText(80) },
);

interface Call {
  method: string;
  path: 'history' | 'other-run' | 'bad-path';
  token: 'right' | 'wrong' | 'none';
  runner: string;
  batch: string;
  body: string;
}
const call: fc.Arbitrary<Call> = fc.record({
  method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE') }),
  path: fc.oneof({ weight: 8, arbitrary: fc.constant('history' as const) }, { weight: 1, arbitrary: fc.constantFrom('other-run' as const, 'bad-path' as const) }),
  token: fc.oneof({ weight: 8, arbitrary: fc.constant('right' as const) }, { weight: 1, arbitrary: fc.constantFrom('wrong' as const, 'none' as const) }),
  runner: id,
  batch: batchId,
  body,
});

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** What the sink must answer, and the entries it must record. */
function expected(c: Call, applied: Set<string>): { status: number; entries: number } {
  if (c.path === 'bad-path') return { status: 404, entries: 0 };
  if (c.method !== 'POST') return { status: 405, entries: 0 };
  if (c.token !== 'right') return { status: 401, entries: 0 };
  if (c.path === 'other-run') return { status: 404, entries: 0 };
  if (!ID.test(c.runner) || !ID.test(c.batch)) return { status: 400, entries: 0 };
  if (Buffer.byteLength(c.body) > MAX_BYTES) return { status: 413, entries: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(c.body);
  } catch {
    return { status: 400, entries: 0 };
  }
  if (applied.has(`${c.runner}\u0000${c.batch}`)) return { status: 200, entries: 0 };
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length > MAX_ENTRIES) return { status: 413, entries: 0 };
  if (list.some((e) => entryProblem(structuredClone(e)) !== undefined)) return { status: 400, entries: 0 };
  return { status: 204, entries: list.length };
}

let rec: HistoryRecorder;
let sink: HistorySinkServer;
beforeAll(async () => {
  rec = new HistoryRecorder();
  sink = await startHistorySink(rec, { maxBatchEntries: MAX_ENTRIES, maxBatchBytes: MAX_BYTES });
});
afterAll(async () => {
  await sink?.close();
});

describe('history sink under random and adversarial requests', () => {
  it(`answers as its model says, applies each batch id once, and records only well-formed entries (${RUNS} requests, seed ${SEED})`, { timeout: fuzzTestTimeoutMs }, async () => {
    const heapBefore = retainedHeapBytes();
    const port = Number(new URL(sink.url).port);
    const runPath = new URL(sink.url).pathname;
    const applied = new Set<string>();
    let cases = 0;
    let recorded = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        cases++;
        const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
        if (c.token === 'right') headers.push(['Authorization', `Bearer ${sink.token}`]);
        if (c.token === 'wrong') headers.push(['Authorization', `Bearer ${sink.token.slice(1)}x`]);
        // Header values travel as latin1 bytes; ids outside it would not be well-framed HTTP.
        if (c.runner !== '') headers.push(['X-Stateproof-Runner', encodeURIComponent(c.runner) === c.runner ? c.runner : 'bad id']);
        if (c.batch !== '') headers.push(['X-Stateproof-Batch', encodeURIComponent(c.batch) === c.batch ? c.batch : 'bad id']);
        const sent = { ...c, runner: encodeURIComponent(c.runner) === c.runner ? c.runner : 'bad id', batch: encodeURIComponent(c.batch) === c.batch ? c.batch : 'bad id' };
        const path = c.path === 'history' ? runPath : c.path === 'other-run' ? runPath.replace(sink.runId, 'run-other') : '/history';
        const want = expected(sent, applied);
        const a = await rawRequest(port, { method: c.method, path, headers, body: c.body });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const what = `${c.method} ${c.path} token=${c.token} runner=${sent.runner} batch=${sent.batch} ${c.body.slice(0, 150)} → ${a.status} ${a.body.slice(0, 200)}`;
        if (!DOCUMENTED.has(a.status)) throw new Error(`undocumented status: ${what}`);
        if (a.status !== want.status) throw new Error(`expected ${want.status}: ${what}`);
        if (a.status >= 400 && a.body.trim() === '') throw new Error(`refusal without a reason: ${what}`);
        if (a.status === 204) applied.add(`${sent.runner}\u0000${sent.batch}`);
        recorded += want.entries;
        if (rec.entries.length !== recorded) throw new Error(`${rec.entries.length} entries recorded, model says ${recorded}: ${what}`);
      }),
      fuzzParameters(SEED, RUNS),
    );
    expect(cases, 'cases run').toBe(RUNS);
    for (const e of rec.entries) expect(entryProblem({ ...e, id: undefined }), JSON.stringify(e)).toBeUndefined();
    expect(sink.stats().entries).toBe(recorded);
    expect(sink.stats().batches).toBe(applied.size);
    const count = (f: (s: number) => boolean) => [...statuses].filter(([s]) => f(s)).reduce((n, [, k]) => n + k, 0);
    expect(count((s) => s === 204)).toBeGreaterThan(RUNS / 10);
    expect(count((s) => s === 200)).toBeGreaterThan(0);
    expect(count((s) => s >= 400)).toBeGreaterThan(RUNS / 10);
    const growth = retainedHeapBytes() - heapBefore;
    expect(growth, `retained heap grew by ${(growth / 1e6).toFixed(0)} MB`).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);

    // Still a working sink.
    const ok = await fetch(sink.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${sink.token}`, 'x-stateproof-runner': 'after', 'x-stateproof-batch': 'fuzz' },
      body: JSON.stringify([{ op: 'read', session: 's', intendedStartMs: 1, startMs: 1, endMs: 2, outcome: 'ok', status: 200, vu: 1 }]),
    });
    expect(ok.status).toBe(204);
  });
});
