/**
 * The harness against a broken or hostile target. Each scripted misbehaving server
 * (fixtures/misbehaving-servers.ts) is driven by a small k6 script through the built-in engine;
 * the run must end on time, exit 0, and count the misbehaviour — never crash, hang, follow the
 * target elsewhere, or let memory grow with what the target sends. Then whole runs through
 * runScenario({ target }) against a few of them, and a run whose secrets must not reach any file
 * of its report.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, type EngineResult } from '../../src/engine/index.ts';
import { HTTP_DEFAULTS } from '../../src/engine/k6/http.ts';
import { runScenario } from '../../src/run/run-scenario.ts';
import { outcomeCounts, writeClassifierScript, type Outcome } from './engine-script.ts';
import { startMisbehavingServer, type MisbehavingServer, type Misbehaviour } from './fixtures/misbehaving-servers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 500;
const ITERATIONS = 4;

interface Case {
  kind: Misbehaviour;
  /** Every request ends so; the others' counters stay 0. */
  outcome: Outcome;
  iterations?: number;
  timeout?: string;
  /** http_req_failed's rate: 1 when every request counts as failed. */
  failed: number;
}

const CASES: Case[] = [
  { kind: 'silent', outcome: 'timeout', failed: 1 },
  { kind: 'slowloris', outcome: 'timeout', failed: 1 },
  { kind: 'informational-flood', outcome: 'timeout', failed: 1 },
  { kind: 'trickle-body', outcome: 'timeout', failed: 1 },
  { kind: 'endless-body', outcome: 'too_large', failed: 1, timeout: '20s' },
  { kind: 'huge-body', outcome: 'too_large', failed: 1, timeout: '20s' },
  { kind: 'huge-headers', outcome: 'transport', failed: 1 },
  { kind: 'reset-mid-body', outcome: 'transport', failed: 1 },
  { kind: 'invalid-json', outcome: 'bad_json', failed: 0 },
  { kind: 'wrong-content-type', outcome: 'wrong_type', failed: 0 },
  { kind: 'odd-status', outcome: 'odd_status', failed: 0.8, iterations: 5 }, // 299 is within k6's default expected 200-399,
  { kind: 'redirect-offsite', outcome: 'redirect_refused', failed: 1 },
  { kind: 'redirect-same', outcome: 'ok', failed: 0 },
];

const script = writeClassifierScript();
afterAll(() => script.cleanup());

async function drive(server: MisbehavingServer, c: Pick<Case, 'iterations' | 'timeout'>, method = 'GET', responseType = 'text'): Promise<{ r: EngineResult; wallMs: number }> {
  const t0 = performance.now();
  const r = await runScript({
    scriptPath: script.file,
    env: { URL: server.url, TIMEOUT: c.timeout ?? `${TIMEOUT_MS}ms`, ITERATIONS: String(c.iterations ?? ITERATIONS), VUS: '2', METHOD: method, RESPONSE_TYPE: responseType },
  });
  return { r, wallMs: performance.now() - t0 };
}

describe('the engine against a misbehaving target', () => {
  let elsewhere: MisbehavingServer;
  beforeAll(async () => {
    // Where the off-site redirect points: it must never see a request.
    elsewhere = await startMisbehavingServer('invalid-json');
  });
  afterAll(async () => {
    await elsewhere?.close();
  });

  for (const c of CASES) {
    it(`${c.kind}: ends on time, counts every request as ${c.outcome}`, async () => {
      const server = await startMisbehavingServer(c.kind, { redirectTo: elsewhere.url, maxLifeMs: 30_000 });
      const rssBefore = process.memoryUsage().rss;
      try {
        const n = c.iterations ?? ITERATIONS;
        const { r, wallMs } = await drive(server, c);
        const counts = outcomeCounts(r);
        expect(r.exitCode).toBe(0);
        expect(counts[c.outcome], JSON.stringify(counts)).toBe(n);
        expect(Object.values(counts).reduce((a, b) => a + b, 0), JSON.stringify(counts)).toBe(n);
        // Two VUs, n/2 requests each, each bounded by its timeout (plus undici's coarse timer and a noisy box).
        expect(wallMs).toBeLessThan(15_000);
        const maxMs = r.metrics.http_req_duration!.values.max!;
        expect(maxMs).toBeLessThan(c.outcome === 'timeout' ? TIMEOUT_MS + 2_500 : 10_000);
        if (c.outcome === 'timeout') expect(maxMs).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
        const failedRate = r.metrics.http_req_failed?.values.rate ?? 0;
        expect(failedRate).toBeCloseTo(c.failed, 6);
        if (c.kind === 'redirect-offsite') {
          expect(elsewhere.requests).toBe(0);
          expect(server.requests).toBe(n);
        }
        if (c.kind === 'redirect-same') expect(server.requests).toBe(2 * n); // each followed once, on the same origin
        if (c.kind === 'endless-body' || c.kind === 'huge-body') {
          // Bounded read: the engine stopped near the cap per request, whatever the target had to send.
          expect(server.bytesSent).toBeLessThan(n * (HTTP_DEFAULTS.maxBodyBytes + 64 * 1024 * 1024));
          const growth = process.memoryUsage().rss - rssBefore;
          expect(growth, `RSS grew by ${(growth / 1e6).toFixed(0)} MB`).toBeLessThan(4 * HTTP_DEFAULTS.maxBodyBytes + 256 * 1024 * 1024);
        }
      } finally {
        await server.close();
      }
    });
  }

  it('close-keepalive: a server that closes every kept-alive connection costs connections, not requests', async () => {
    const server = await startMisbehavingServer('close-keepalive');
    try {
      const { r, wallMs } = await drive(server, { iterations: 40 });
      const counts = outcomeCounts(r);
      expect(r.exitCode).toBe(0);
      // A request that raced a closing connection is a counted transport error, never a hang or a crash.
      expect(counts.ok + counts.transport, JSON.stringify(counts)).toBe(40);
      expect(counts.ok).toBeGreaterThanOrEqual(20);
      expect(server.connections).toBeGreaterThanOrEqual(counts.ok);
      expect(wallMs).toBeLessThan(15_000);
    } finally {
      await server.close();
    }
  });

  it('the same bounds hold for writes and for binary or discarded bodies', async () => {
    for (const [kind, responseType] of [['silent', 'text'], ['endless-body', 'text'], ['endless-body', 'binary'], ['endless-body', 'none'], ['huge-body', 'none']] as const) {
      const server = await startMisbehavingServer(kind, { maxLifeMs: 30_000 });
      try {
        const { r, wallMs } = await drive(server, { iterations: 2, timeout: kind === 'silent' ? undefined : '20s' }, 'POST', responseType);
        expect(outcomeCounts(r)[kind === 'silent' ? 'timeout' : 'too_large']).toBe(2);
        expect(wallMs).toBeLessThan(15_000);
      } finally {
        await server.close();
      }
    }
  });
});

/** A scenario in the built-in scenarios' shape (contract calls via scenarios/lib, history recorded). */
function writeTargetScript(dir: string): string {
  const lib = (f: string) => JSON.stringify(path.join(REPO, 'scenarios/lib', f));
  const file = path.join(dir, 'target-scenario.js');
  writeFileSync(
    file,
    `import { appendTurn, readSession } from ${lib('session-ops.ts')};
import { flushHistory } from ${lib('history.ts')};
import exec from 'k6/execution';
export const options = { vus: 2, iterations: 6 };
export default async function () {
  const session = 'hardening-' + exec.vu.idInTest;
  await appendTurn(session, 't' + exec.vu.idInTest + '-' + exec.vu.iterationInScenario, 'hello', { timeoutMs: 500 });
  await readSession(session, undefined, { timeoutMs: 500 });
  await flushHistory();
}
`,
  );
  return file;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('whole runs against a misbehaving --target', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-hardening-run-'));
  const scenarioFile = writeTargetScript(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['silent', 'invalid-json', 'reset-mid-body'] as const) {
    it(`${kind}: runScenario finishes, records every operation with what came back, and writes its report`, async () => {
      const server = await startMisbehavingServer(kind, { maxLifeMs: 30_000 });
      const lines: string[] = [];
      try {
        const t0 = performance.now();
        const out = await runScenario({ scenario: scenarioFile, target: server.url, skipPreflight: true, outDir: path.join(dir, 'reports'), runId: `target-${kind}`, log: (l) => lines.push(l) });
        expect(performance.now() - t0).toBeLessThan(30_000);
        expect([0, 1]).toContain(out.exitCode);
        expect(out.result.historyEntries).toBe(12);
        const history = JSON.parse(readFileSync(path.join(out.runDir, 'history.json'), 'utf8')) as Array<{ op: string; outcome: string; status: number; code?: string }>;
        const ops = Array.isArray(history) ? history : (history as { entries: typeof history }).entries;
        expect(ops.length).toBe(12);
        const appends = ops.filter((e) => e.op === 'append');
        const reads = ops.filter((e) => e.op === 'read');
        if (kind === 'silent') {
          // A write with no answer may or may not have happened: unknown, never ok or fail.
          for (const a of appends) expect([a.outcome, a.code]).toEqual(['unknown', 'transport:1050']);
          for (const r of reads) expect(r.outcome).toBe('fail');
        } else if (kind === 'reset-mid-body') {
          for (const a of appends) expect([a.outcome, a.code]).toEqual(['unknown', 'transport:1220']);
        } else {
          // 200 with a body that is not JSON: answered, but with nothing the checkers could use.
          for (const a of appends) expect(a.status).toBe(200);
        }
        for (const f of ['result.json', 'summary.md', 'junit.xml', 'index.html']) expect(statSync(path.join(out.runDir, f)).size).toBeGreaterThan(0);
      } finally {
        await server.close();
      }
    });
  }

  /** Runs against a harmless target with these secrets in its settings; every file of the run that contains one. */
  async function leaksOf(runId: string, secrets: string[], settings: (targetUrl: string) => { target: string; env: Record<string, string> }): Promise<{ leaks: string[]; resultJson: string; port: number }> {
    const server = await startMisbehavingServer('invalid-json');
    try {
      const { target, env } = settings(server.url);
      const out = await runScenario({ scenario: scenarioFile, target, env, skipPreflight: true, outDir: path.join(dir, 'reports'), runId, log: () => {} });
      const files = filesUnder(out.runDir);
      expect(files.length).toBeGreaterThanOrEqual(4);
      const leaks: string[] = [];
      for (const f of files) {
        const text = readFileSync(f, 'latin1');
        for (const secret of secrets) if (text.includes(secret)) leaks.push(`${path.relative(out.runDir, f)} contains ${secret}`);
      }
      return { leaks, resultJson: readFileSync(path.join(out.runDir, 'result.json'), 'utf8'), port: server.port };
    } finally {
      await server.close();
    }
  }

  it('secrets in a run\'s settings (tokens, passwords in URLs, bearer values, secret query parameters) appear in none of the files it writes', async () => {
    const secrets = ['EnvToken-s3cr3t', 'RedisPass-s3cr3t', 'BearerValue-s3cr3t', 'QueryToken-s3cr3t', 'ApiKey-s3cr3t'];
    const { leaks, resultJson, port } = await leaksOf('secrets-env', secrets, (url) => ({
      target: url,
      env: {
        API_TOKEN: secrets[0]!,
        STORE_URL: `redis://default:${secrets[1]}@127.0.0.1:6379/0`,
        EXTRA_HEADER: `Bearer ${secrets[2]}`,
        CALLBACK: `http://127.0.0.1:1/hook?token=${secrets[3]}`,
        SERVICE_API_KEY: secrets[4]!,
      },
    }));
    expect(leaks).toEqual([]);
    // The run still says where it ran, just not with what credentials.
    expect(resultJson).toContain(`127.0.0.1:${port}`);
  });

  // Found by this test: the run's backend label was the raw --target, and `scenario` was not
  // redacted, so a password in the target URL reached every report. Both are fixed.
  it('a password in the --target URL appears in none of the files the run writes', async () => {
    const secret = 'UrlPassw0rd-s3cr3t';
    const { leaks } = await leaksOf('secrets-target', [secret], (url) => ({ target: url.replace('http://', `http://operator:${secret}@`), env: {} }));
    expect(leaks).toEqual([]);
  });
});
