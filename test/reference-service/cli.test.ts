import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServer } from './helpers.ts';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/stateproof-service.mjs');
let redis: RedisServer;
const children: ChildProcess[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
});

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('stateproof-service binary', () => {
  it('prints exactly one ready line, serves, and exits 0 on SIGTERM', async () => {
    const p = run(['--redis', redis.url, '--port', '0', '--instance-id', 'cli-1', '--unsafe', 'cas,bounds', '--model-latency-ms', '0']);
    const deadline = Date.now() + 20_000;
    while (!p.out().includes('\n') && Date.now() < deadline && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const m = /^stateproof-service listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(p.out());
    expect(m, p.out() + p.err()).not.toBeNull();
    const health = await (await fetch(`${m![1]}/healthz`)).json();
    expect(health).toMatchObject({ instance: 'cli-1', schemaVersion: 3, unsafe: ['cas', 'bounds'] });
    const ready = await fetch(`${m![1]}/readyz`);
    expect(ready.status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('exits 2 with a message on bad flags', async () => {
    const cases = [
      [['--port', '0'], /--redis <url> is required/],
      [['--redis', redis.url, '--unsafe', 'cas,nope'], /unknown safeguard "nope"/],
      [['--redis', redis.url, '--bogus'], /Unknown option '--bogus'/],
      [['--redis', redis.url, '--schema-version', '4'], /schemaVersion/],
      [['--redis', redis.url, '--model-latency-ms', '5-2'], /max is below min/],
    ] as const;
    const runs = cases.map(([args]) => run([...args]));
    for (const [i, [args, pattern]] of cases.entries()) {
      const p = runs[i]!;
      expect(await p.exited, args.join(' ')).toBe(2);
      expect(p.err()).toMatch(pattern);
      expect(p.err()).not.toMatch(/\n\s+at /); // no stack trace for user errors
    }
  });
});
