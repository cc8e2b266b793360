import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/topology/cleanup.ts';
import { append } from './helpers.ts';

const cli = fileURLToPath(new URL('../../bin/stateproof.mjs', import.meta.url));

function runCli(args: string[]) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, out: () => out, err: () => err };
}

describe('stateproof up', () => {
  it('prints the topology as JSON with the two tenants, serves requests, and stops everything on Ctrl-C', async () => {
    const cli = runCli(['up', '--instances', '2', '--router', 'round-robin', '--json']);
    try {
      const deadline = Date.now() + 45_000;
      while (!cli.out().includes('\n') && Date.now() < deadline && cli.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const info = JSON.parse(cli.out().split('\n')[0]!) as {
        router: { url: string; policy: string };
        instances: Array<{ id: string }>;
        tenants: Array<{ tenant: string; token: string }>;
        processes: Record<string, number>;
      };
      expect(info.router.policy).toBe('round-robin');
      expect(info.instances.map((i) => i.id)).toEqual(['i1', 'i2']);
      expect(info.tenants.map((t) => t.tenant)).toEqual(['tenant-a', 'tenant-b']);
      const a = await append(info.router.url, info.tenants[0]!.token, 'up-1');
      expect(a.status).toBeLessThan(300);
      // The other tenant does not see tenant-a's session.
      const b = await fetch(`${info.router.url}/v1/sessions/up-1`, { headers: { authorization: `Bearer ${info.tenants[1]!.token}` } });
      expect(b.status).toBe(404);

      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(0);
      for (const pid of Object.values(info.processes)) expect(processStartTime(pid), `pid ${pid}`).toBeUndefined();
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('--backend: the adapter\'s processes serve behind the router, each on its own link, and stop on Ctrl-C', async () => {
    const cli = runCli(['up', '--backend', 'langchain-redis-history', '--instances', '2', '--json']);
    try {
      const deadline = Date.now() + 60_000;
      while (!cli.out().includes('\n') && Date.now() < deadline && cli.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const info = JSON.parse(cli.out().split('\n')[0]!) as {
        backend: string;
        router: { url: string };
        instances: Array<{ id: string; url: string; redisLink: string }>;
        tenants: Array<{ tenant: string; token: string }>;
        processes: Record<string, number>;
      };
      expect(info.backend).toBe('langchain-redis-history');
      expect(info.instances.map((i) => i.redisLink)).toEqual(['redis-i1', 'redis-i2']);
      // The library answers (its /healthz names it), and the contract works through the router.
      const health = (await (await fetch(`${info.instances[0]!.url}/healthz`)).json()) as Record<string, unknown>;
      expect(JSON.stringify(health)).toContain('@langchain/redis');
      const a = await append(info.router.url, info.tenants[0]!.token, 'up-adapter-1');
      expect(a.status).toBeLessThan(300);

      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(0);
      for (const pid of Object.values(info.processes)) expect(processStartTime(pid), `pid ${pid}`).toBeUndefined();
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });

  it('refuses a bad router policy with a usage error', async () => {
    const cli = runCli(['up', '--router', 'sideways']);
    expect(await cli.exit).toBe(2);
    expect(cli.err()).toMatch(/--router must be one of sticky, round-robin, random; got "sideways"/);
  });
});
