/**
 * --run-id: an id the user fixes is checked (charset, length) and never lands in a directory that
 * already holds something; `stateproof k8s --run-id X` writes pods that record into the run that
 * `stateproof run … --run-id X --sink-listen …` serves.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { run as k8s } from '../../src/cli/commands/k8s.ts';
import { sinkTarget } from '../../src/k8s/sink-url.ts';
import { parseRunId, RUN_ID_MAX } from '../../src/run/run-id.ts';
import { BIN, cli } from '../helpers/cli.ts';

const oneLine = (s: string) => s.trim().split('\n').filter((l) => l.trim() !== '');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stateproof-run-id-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseRunId', () => {
  it.each(['so-k8s-1', '20261202T060000Z-store-outage-ab12', 'A.b_c-9', 'x'.repeat(RUN_ID_MAX)])('takes %s', (id) => {
    expect(parseRunId(id)).toBe(id);
  });
  it.each([
    ['', 'it is empty'],
    ['../x', 'it starts with a symbol'],
    ['-x', 'it starts with a symbol'],
    ['a/b', "'/' is not allowed"],
    ['a b', "' ' is not allowed"],
    ['run%2f', "'%' is not allowed"],
    ['ä', "'ä' is not allowed"],
    ['x'.repeat(RUN_ID_MAX + 1), `it has ${RUN_ID_MAX + 1} characters`],
  ])('refuses %j: %s', (id, why) => {
    expect(() => parseRunId(id)).toThrow(new RegExp(`^--run-id must be 1 to ${RUN_ID_MAX} letters, digits, '\\.', '_' or '-', starting with a letter or digit .*: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });
});

describe('run --run-id', () => {
  it('a bad id: exit 2, one line, nothing started', { timeout: 60_000 }, async () => {
    const r = await cli(['run', 'store-outage', '-q', '--run-id', '../escape', '--out', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/^stateproof run: --run-id must be .*got '\.\.\/escape': it starts with a symbol$/)]);
    expect(r.stderr).not.toMatch(/stateproof: starting/);
  });

  it('an id whose directory holds something: exit 2, and what was there is untouched', { timeout: 60_000 }, async () => {
    const taken = path.join(dir, 'taken');
    await mkdir(taken, { recursive: true });
    await writeFile(path.join(taken, 'result.json'), '{"mine": true}');
    const r = await cli(['run', 'store-outage', '-q', '--run-id', 'taken', '--out', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([`stateproof run: --run-id taken: ${taken} already holds a run; pick another run id, another --out, or move that directory away (nothing was started)`]);
    expect(await readFile(path.join(taken, 'result.json'), 'utf8')).toBe('{"mine": true}');
  });

  it('is refused by the suite, which names each run itself', { timeout: 60_000 }, async () => {
    const r = await cli(['suite', '-q', '--run-id', 'x1', '--out', dir]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(['stateproof suite: --run-id is for `stateproof run`: the suite gives each scenario its own run id (and writes them under one suite directory)']);
  });
});

describe('sinkTarget', () => {
  const fresh = () => 'fresh-1';
  it('puts the run id under the address, keeping a path prefix', () => {
    expect(sinkTarget('http://10.0.0.5:7070', 'r1', fresh)).toEqual({ historyUrl: 'http://10.0.0.5:7070/runs/r1/history', runId: 'r1', port: 7070 });
    expect(sinkTarget('https://gw.example/stateproof/', undefined, fresh)).toEqual({ historyUrl: 'https://gw.example/stateproof/runs/fresh-1/history', runId: 'fresh-1', port: 443 });
  });
  it('reads the run id from a URL a run printed, and refuses a different --run-id', () => {
    expect(sinkTarget('http://h:7070/runs/r9/history', undefined, fresh).runId).toBe('r9');
    expect(sinkTarget('http://h:7070/runs/r9/history', 'r9', fresh).historyUrl).toBe('http://h:7070/runs/r9/history');
    expect(() => sinkTarget('http://h:7070/runs/r9/history', 'r1', fresh)).toThrow('--sink-url names run r9 but --run-id is r1; give the sink\'s address alone (e.g. http://h:7070) with --run-id, or drop --run-id');
    expect(() => sinkTarget('http://h:7070/runs/..%2Fx/history', undefined, fresh)).toThrow(/^the run id in --sink-url must be/);
  });
});

/** A port free on loopback now (the run listens on it moments later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('k8s --run-id and run --run-id pair up', () => {
  it('the pods\' URL and token from the manifests record into the run started with that id', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const out = path.join(dir, 'k8s');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await k8s(['store-outage', '--parallelism', '2', '--out', out, '--sink-url', `http://127.0.0.1:${port}`, '--run-id', 'paired-1'])).toBe(0);
    } finally {
      write.mockRestore();
    }
    const testRun = parse(await readFile(path.join(out, 'testrun.yaml'), 'utf8')) as { spec: { runner: { env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string } } }> } } };
    const env = testRun.spec.runner.env;
    const historyUrl = env.find((e) => e.name === 'STATEPROOF_HISTORY_URL')!.value!;
    expect(historyUrl).toBe(`http://127.0.0.1:${port}/runs/paired-1/history`);
    expect(env.find((e) => e.name === 'STATEPROOF_SINK_TOKEN')!.valueFrom!.secretKeyRef.name).toBe('stateproof-store-outage-sink');
    const readme = await readFile(path.join(out, 'README.md'), 'utf8');
    expect(readme).toContain(`stateproof run store-outage --run-id paired-1 --sink-listen 0.0.0.0:${port} &`);

    // The run the README says to start, on loopback: a short script, so the test does not wait for a whole scenario.
    const script = path.join(dir, 'short.js');
    await writeFile(script, `import { sleep } from 'k6';\nexport const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } } };\nexport default function () { sleep(3); }\n`);
    const token = 'a-token-both-sides-share-0123456789';
    const reports = path.join(dir, 'reports');
    const child = spawn(process.execPath, [BIN, 'run', script, '--run-id', 'paired-1', '--sink-listen', `127.0.0.1:${port}`, '-q', '--out', reports], { env: { ...process.env, STATEPROOF_SINK_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const statuses: number[] = [];
    const listening = new Promise<void>((resolve) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes(`history sink for run paired-1 listening on 127.0.0.1:${port}`)) resolve();
      });
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    try {
      await Promise.race([listening, exited.then(() => { throw new Error(`the run ended before its sink listened:\n${stderr}`); })]);
      const post = (url: string, bearer: string) =>
        fetch(url, {
          method: 'POST',
          body: JSON.stringify([{ op: 'append', session: 'k8s-remote', turnId: 'pod-turn-1', intendedStartMs: 1, startMs: 1, endMs: 2, outcome: 'ok', status: 200, vu: 1 }]),
          headers: { authorization: `Bearer ${bearer}`, 'x-stateproof-runner': 'pod-1', 'x-stateproof-batch': '1' },
        }).then((res) => res.status);
      statuses.push(await post(historyUrl.replace('paired-1', 'another-run'), token));
      statuses.push(await post(historyUrl, 'not-the-token-of-this-run-000000'));
      statuses.push(await post(historyUrl, token));
      await exited;
    } finally {
      if (child.exitCode === null) child.kill();
    }
    // Another run's path, a wrong token, then the manifests' URL with the shared token.
    expect(statuses).toEqual([404, 401, 204]);
    const runDir = path.join(reports, 'paired-1');
    expect(existsSync(path.join(runDir, 'result.json'))).toBe(true);
    const result = JSON.parse(await readFile(path.join(runDir, 'result.json'), 'utf8')) as { runId: string; runners?: { runners: Array<{ id: string; kind: string; entries: number }> } };
    expect(result.runId).toBe('paired-1');
    expect(result.runners!.runners).toContainEqual(expect.objectContaining({ id: 'pod-1', kind: 'remote', entries: 1 }));
    expect(await readFile(path.join(runDir, 'history.json'), 'utf8')).toContain('pod-turn-1');
    expect(result).not.toHaveProperty('token');
    expect(await readFile(path.join(runDir, 'result.json'), 'utf8')).not.toContain(token);
  });
});
