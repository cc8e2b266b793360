/** `stateproof proxy` as a process: prints its API URL, serves the API, populates from --config, stops on SIGTERM. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/stateproof.mjs');
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stateproof proxy', () => {
  it('prints its URL, serves the API with the --config proxies, exits 0 on SIGTERM', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stateproof-proxy-cli-'));
    const config = path.join(dir, 'proxies.json');
    await writeFile(config, JSON.stringify([{ name: 'redis', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }]));
    const child = spawn(process.execPath, [bin, 'proxy', '--port', '0', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const proxies = await new Toxiproxy(url).getAll();
      expect(Object.keys(proxies)).toEqual(['redis']);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a bad --port with exit 2', async () => {
    const child = spawn(process.execPath, [bin, 'proxy', '--port', 'abc'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => child.once('exit', r))).toBe(2);
    expect(err).toMatch(/--port must be a port number/);
  });
});
