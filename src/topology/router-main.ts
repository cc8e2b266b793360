/**
 * The router as a process of its own, for docker-compose (where the instances are containers):
 *   node --import tsx src/topology/router-main.ts --host 0.0.0.0 --port 8080 --policy sticky \
 *        --instance i1=http://service-1:8080 --instance i2=http://service-2:8080
 * Prints `stateproof-router listening on <url>` when ready; SIGTERM/SIGINT close it.
 */
import { parseArgs } from 'node:util';
import { ROUTER_POLICIES, startRouter, type RouterPolicy } from './router.ts';
import { TOPOLOGY_DEFAULTS } from './types.ts';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
      policy: { type: 'string', default: TOPOLOGY_DEFAULTS.router },
      seed: { type: 'string', default: String(TOPOLOGY_DEFAULTS.routerSeed) },
      instance: { type: 'string', multiple: true, default: [] },
    },
  });
  const policy = values.policy as RouterPolicy;
  if (!ROUTER_POLICIES.includes(policy)) {
    process.stderr.write(`stateproof-router: --policy must be one of ${ROUTER_POLICIES.join(', ')}\n`);
    return 2;
  }
  const instances = values.instance.map((spec) => {
    const eq = spec.indexOf('=');
    return { id: spec.slice(0, eq), url: spec.slice(eq + 1) };
  });
  if (instances.length === 0 || instances.some((i) => !i.id || !/^https?:\/\//.test(i.url))) {
    process.stderr.write('stateproof-router: give each instance as --instance <id>=<http://host:port>\n');
    return 2;
  }
  const router = await startRouter({ instances, policy, host: values.host, port: Number(values.port), seed: Number(values.seed) });
  process.stdout.write(`stateproof-router listening on ${router.url} (${policy}; ${instances.map((i) => i.id).join(', ')})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await router.close();
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await main(process.argv.slice(2));
}
