import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const composeFile = `${root}docker-compose.yml`;
const run = promisify(execFile);

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
}

const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as Compose;
const flag = (s: Service, name: string) => s.command![s.command!.indexOf(name) + 1];

/** Why `docker compose config` cannot run here, or undefined when it can. */
async function composeUnavailable(): Promise<string | undefined> {
  try {
    await run('docker', ['compose', 'version'], { timeout: 10_000 });
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') return 'the docker client is not installed';
    return `the docker client has no compose plugin (${(err.stderr ?? err.message).trim().split('\n')[0]})`;
  }
}
const unavailable = await composeUnavailable();
if (unavailable) console.log(`skipping \`docker compose config\`: ${unavailable}`);

describe('docker-compose.yml', () => {
  it.skipIf(unavailable !== undefined)('is valid for docker compose', async () => {
    await run('docker', ['compose', '-f', composeFile, '--profile', 'load', 'config', '-q'], { timeout: 30_000 });
  });

  it('has real Redis, real Toxiproxy, three instances built from this repo, the router and k6', () => {
    const s = compose.services;
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['redis', 'toxiproxy', 'service-1', 'service-2', 'service-3', 'router', 'bundles', 'k6']));
    expect(s.redis!.image).toMatch(/^redis:/);
    expect(s.toxiproxy!.image).toMatch(/^ghcr\.io\/shopify\/toxiproxy:/);
    expect(s.k6!.image).toMatch(/^grafana\/k6:/);
    for (const n of [1, 2, 3]) expect(s[`service-${n}`]!.build).toBe('.');
    expect(existsSync(`${root}Dockerfile`)).toBe(true);
  });

  it('sends each instance through its own proxy, which chains into the "redis" proxy', () => {
    const proxies = JSON.parse(compose.configs.toxiproxy!.content) as Array<{ name: string; listen: string; upstream: string }>;
    const byName = Object.fromEntries(proxies.map((p) => [p.name, p]));
    expect(byName.redis!.upstream).toBe('redis:6379');
    const frontPort = byName.redis!.listen.split(':')[1];
    for (const n of [1, 2, 3]) {
      const svc = compose.services[`service-${n}`]!;
      const id = flag(svc, '--instance-id');
      expect(id).toBe(`i${n}`);
      const own = byName[`redis-${id}`]!;
      expect(own.upstream).toBe(`localhost:${frontPort}`);
      expect(flag(svc, '--redis')).toBe(`redis://toxiproxy:${own.listen.split(':')[1]}`);
    }
  });

  it('routes to every instance and points k6 at the router with bundles that exist', () => {
    const router = compose.services.router!;
    const targets = router.command!.filter((_, i, a) => a[i - 1] === '--instance');
    expect(targets).toEqual(['i1=http://service-1:8080', 'i2=http://service-2:8080', 'i3=http://service-3:8080']);
    expect(existsSync(`${root}${router.command![router.command!.indexOf('--import') + 2]}`)).toBe(true);
    expect(compose.services.k6!.environment!.STATEPROOF_TARGET).toBe('http://router:8080');
    const script = compose.services.bundles!.command!.at(-1)!;
    for (const name of [...script.matchAll(/'([a-z-]+)'(?=[,\]])/g)].map((m) => m[1]!)) expect(existsSync(`${root}scenarios/${name}.ts`), name).toBe(true);
  });
});
