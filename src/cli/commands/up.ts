/**
 * `stateproof up`: start a topology, print where everything is, stay up until Ctrl-C, tear down.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { ADAPTERS, REFERENCE_BACKEND } from '../../backend/adapters.ts';
import { adapterOf, adapterProfile, adapterStore } from '../../run/adapter-run.ts';
import { parseStoreKind, ROUTER_POLICIES, startTopology, STORE_KINDS, TOPOLOGY_DEFAULTS, type RouterPolicy, type Topology, type TopologyProvider } from '../../topology/index.ts';

export const help = `Usage: stateproof up [options]

Starts the store (redis-server, optionally with a replica and AOF; valkey-server; or PostgreSQL), the fault proxy with one link per
instance, N reference-service instances and a router in front of them; prints their URLs and the
tenants' bearer tokens; stays up until Ctrl-C, then stops everything it started.

Options:
  --instances <n>         service instances (default ${TOPOLOGY_DEFAULTS.instances})
  --store <name>          ${STORE_KINDS.join(' | ')} (default ${TOPOLOGY_DEFAULTS.store}; local provider)
  --backend <name>        ${REFERENCE_BACKEND} (default) or an adapter under backends/ as every instance:
                          ${ADAPTERS.map((a) => a.name).join(', ')} (its store is the default)
  --replica               also start a Redis replica, following through the "replication" proxy
  --aof                   Redis append-only file (fsync always): acknowledged writes survive a restart
  --router <policy>       sticky | round-robin | random (default ${TOPOLOGY_DEFAULTS.router})
  --schema-version <n>    state schema version every instance writes (1, 2 or 3; default: the service's)
  --unsafe <list>         safeguards to switch off on every instance: breaker,bounds,cas,migrations,observability
  --dir <path>            keep audit logs, service logs and the tokens file here (default: a temp dir, removed)
  --provider <name>       local (default) or docker (Redis and Toxiproxy in containers)
  --json                  print one JSON object instead of text
  -h, --help

Fault proxy: the embedded one, or a real Toxiproxy when TOXIPROXY_URL is set.

Examples:
  stateproof up
  stateproof up --instances 3 --replica --router round-robin
  stateproof up --json > topology.json
  stateproof up --store postgres --instances 2
  stateproof up --backend langchain-redis-history --instances 2
`;

export function describeTopology(t: Topology): Record<string, unknown> {
  return {
    provider: t.provider,
    runId: t.runId,
    router: { url: t.routerUrl, policy: t.routerPolicy },
    instances: t.instances.map((i) => ({ id: i.id, url: i.url, schemaVersion: i.schemaVersion ?? null, unsafe: i.unsafe, redisLink: i.redisLink ?? null, auditLog: i.auditLogPath ?? null })),
    store: t.store ? { kind: t.store.kind, version: t.store.version ?? null, url: t.redis?.url ?? null, settings: t.store.settings ?? {}, notes: t.store.notes } : null,
    redis: t.redis ? { url: t.redis.url, replica: t.redis.replica?.url ?? null, aof: t.redis.server?.aof ?? null } : null,
    toxiproxy: t.toxiproxy ? { url: t.toxiproxy.url, embedded: t.toxiproxy.embedded, proxies: t.toxiproxy.proxies } : null,
    tenants: Object.entries(t.tenants).map(([tenant, token]) => ({ tenant, token })),
    processes: Object.fromEntries(Object.entries(t.processes).map(([name, p]) => [name, p.pid])),
    dir: t.dir,
  };
}

function text(t: Topology, adapter?: string): string {
  const rows: Array<[string, string]> = [['router', `${t.routerUrl}  (${t.routerPolicy})`]];
  for (const i of t.instances) rows.push([i.id, `${i.url}  (${adapter ?? `schema ${i.schemaVersion ?? 'default'}`}${i.unsafe.length ? `, unsafe: ${i.unsafe.join(',')}` : ''}; link ${i.redisLink})`]);
  if (t.redis) rows.push([t.store?.kind ?? 'redis', `${t.redis.url}${t.redis.server?.aof ? '  (AOF)' : ''}${t.store?.version ? `  (${t.store.version}${t.store.kind === 'postgres' ? `; ${t.store.notes.join('; ')}` : ''})` : ''}`]);
  if (t.redis?.replica) rows.push(['replica', t.redis.replica.url]);
  if (t.toxiproxy) rows.push(['toxiproxy', `${t.toxiproxy.url}  (${t.toxiproxy.embedded ? 'embedded' : 'external'}; proxies: ${t.toxiproxy.proxies.join(', ')})`]);
  for (const [tenant, token] of Object.entries(t.tenants)) rows.push([tenant, `Authorization: Bearer ${token}`]);
  rows.push(['logs', t.dir]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const [firstToken] = Object.values(t.tenants);
  return [
    `stateproof up: ${t.instances.length}${adapter ? ` ${adapter}` : ''} instance(s) behind a ${t.routerPolicy} router`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    'Try:',
    `  curl -s -H 'authorization: Bearer ${firstToken}' -H 'content-type: application/json' \\`,
    `       -d '{"turnId":"t1","content":"hello"}' ${t.routerUrl}/v1/sessions/s1/turns`,
    '',
    'Press Ctrl-C to stop everything.',
    '',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      instances: { type: 'string' },
      store: { type: 'string' },
      backend: { type: 'string' },
      replica: { type: 'boolean' },
      aof: { type: 'boolean' },
      router: { type: 'string' },
      'schema-version': { type: 'string' },
      unsafe: { type: 'string' },
      dir: { type: 'string' },
      provider: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const instances = values.instances === undefined ? TOPOLOGY_DEFAULTS.instances : Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 32) throw new UsageError(`--instances must be a whole number from 1 to 32; got "${values.instances}".`);
  const router = (values.router ?? TOPOLOGY_DEFAULTS.router) as RouterPolicy;
  if (!ROUTER_POLICIES.includes(router)) throw new UsageError(`--router must be one of ${ROUTER_POLICIES.join(', ')}; got "${values.router}".`);
  const schemaVersion = values['schema-version'] === undefined ? undefined : Number(values['schema-version']);
  if (schemaVersion !== undefined && ![1, 2, 3].includes(schemaVersion)) throw new UsageError(`--schema-version must be 1, 2 or 3; got "${values['schema-version']}".`);
  const provider = (values.provider ?? 'local') as TopologyProvider;
  if (provider !== 'local' && provider !== 'docker') throw new UsageError(`--provider must be local or docker; got "${values.provider}". (For a backend you run yourself, use \`stateproof run --target <url>\`.)`);

  const asked = values.store === undefined ? undefined : parseStoreKind(values.store);
  const adapter = adapterOf(values.backend);
  if (adapter) {
    const reference = [values.unsafe !== undefined ? '--unsafe' : '', values['schema-version'] !== undefined ? '--schema-version' : ''].filter(Boolean);
    if (reference.length) throw new UsageError(`${reference.join(' and ')} shape${reference.length > 1 ? '' : 's'} the reference service; ${adapter.name} runs its library as it is. Drop ${reference.length > 1 ? 'them' : 'it'} or use --backend ${REFERENCE_BACKEND}.`);
  }
  const store = adapter ? adapterStore(adapter, asked) : asked;
  const topology = await startTopology({
    provider,
    store,
    ...(adapter ? { adapter: { name: adapter.name, main: adapter.main, windowTurns: (await adapterProfile(adapter)).bounds.windowTurns } } : {}),
    instances,
    router,
    replica: values.replica ?? false,
    aof: values.aof ?? false,
    schemaVersion,
    unsafe: values.unsafe ? values.unsafe.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    runDir: values.dir,
  });
  process.stdout.write(values.json ? JSON.stringify({ backend: adapter?.name ?? REFERENCE_BACKEND, ...describeTopology(topology) }) + '\n' : text(topology, adapter?.name));

  // Listeners stay registered until teardown is over: topology's own signal handler only exits the
  // process itself when nobody else is listening.
  let onSignal: (s: NodeJS.Signals) => void = () => {};
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  if (!values.json) process.stderr.write(`\n${signal}: stopping…\n`);
  await topology.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (!values.json) process.stderr.write('stopped; nothing left running.\n');
  return 0;
}
