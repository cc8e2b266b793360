/**
 * `stateproof-service`: the reference stateful agent service. Prints exactly one line to stdout
 * when ready (`stateproof-service listening on http://127.0.0.1:<port>`); logs go to stderr.
 * SIGTERM/SIGINT close it and exit 0.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT_OK, EXIT_USAGE, isUserError, UsageError } from '../src/base/errors.ts';
import { CONSISTENCY_MODES, DEFAULTS, parseUnsafe, SAFEGUARDS, storeUrlConfig, type Consistency, type ServiceConfig } from './config.ts';
import { startService } from './service.ts';

export const help = `Usage: stateproof-service (--redis <url> | --store-url <url>) [options]

The reference stateful agent service (backend contract: reference-service/openapi.json).

Options:
  --host <h>                     listen address (default ${DEFAULTS.host})
  --port <n>                     listen port; 0 = ephemeral (default ${DEFAULTS.port})
  --redis <url>                  Redis (or Valkey) primary, e.g. redis://127.0.0.1:6379
  --store-url <url>              the store by its scheme: redis://… (Redis, Valkey),
                                 redis-cluster://host:port,host:port (a Redis or Valkey cluster's seed
                                 nodes) or postgres://user@host:port/db (PostgreSQL)
  --replica-redis <url>          Redis replica; eventual reads may use it
  --cluster-nat <map>            with redis-cluster://: announced=reachable,… e.g.
                                 127.0.0.1:7000=127.0.0.1:41000 (nodes behind a proxy or NAT)
  --instance-id <name>           echoed in audit records and /healthz (default ${DEFAULTS.instanceId})
  --schema-version <1|2|3>       state schema this instance writes (default ${DEFAULTS.schemaVersion})
  --unsafe <list>                safeguards to switch off: ${SAFEGUARDS.join(',')}
  --tokens <file>                JSON {"<token>": "<tenant>"} (default tenant-a-token, tenant-b-token)
  --audit-log <file|->           pino JSON-lines audit trail; "-" = stdout (default none)
  --store-timeout-ms <n>         budget per store call (default ${DEFAULTS.storeTimeoutMs})
  --window-turns <n>             retained window (default ${DEFAULTS.windowTurns})
  --ttl-seconds <n>              session TTL, refreshed on write (default ${DEFAULTS.ttlSeconds})
  --max-turn-bytes <n>           413 above this per turn (default ${DEFAULTS.maxTurnBytes})
  --max-state-bytes <n>          413 above this per session (default ${DEFAULTS.maxStateBytes})
  --bounded-staleness-ms <n>     bounded reads' cache age limit (default ${DEFAULTS.boundedStalenessMs})
  --default-consistency <mode>   strong|bounded|eventual (default ${DEFAULTS.defaultConsistency})
  --model-latency-ms <spec>      "3" fixed, "2-8" uniform, "0" none (default "${DEFAULTS.modelLatencyMs}")
  --max-inflight <n>             requests in flight before 503 overloaded (default ${DEFAULTS.maxInflight})
  -h, --help

Examples:
  stateproof-service --redis redis://127.0.0.1:6379 --port 0
  stateproof-service --redis redis://127.0.0.1:6379 --unsafe cas,bounds --model-latency-ms 3
  stateproof-service --store-url postgres://postgres@127.0.0.1:5432/postgres --port 0
`;

const intFlags = {
  port: 'port',
  'schema-version': 'schemaVersion',
  'store-timeout-ms': 'storeTimeoutMs',
  'window-turns': 'windowTurns',
  'ttl-seconds': 'ttlSeconds',
  'max-turn-bytes': 'maxTurnBytes',
  'max-state-bytes': 'maxStateBytes',
  'bounded-staleness-ms': 'boundedStalenessMs',
  'max-inflight': 'maxInflight',
} as const satisfies Record<string, keyof ServiceConfig>;

export function configFromArgv(argv: string[]): Partial<ServiceConfig> | 'help' {
  const str = { type: 'string' } as const;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: str,
        redis: str,
        'store-url': str,
        'replica-redis': str,
        'cluster-nat': str,
        'instance-id': str,
        unsafe: str,
        tokens: str,
        'audit-log': str,
        'default-consistency': str,
        'model-latency-ms': str,
        ...Object.fromEntries(Object.keys(intFlags).map((k) => [k, str])),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n\n${help}`);
  }
  if (values.help) return 'help';
  const v = values as Record<string, string | undefined>;
  if (!v.redis && !v['store-url']) throw new UsageError('--redis <url> is required (or --store-url redis://… | postgres://…), e.g. --redis redis://127.0.0.1:6379');
  if (v.redis && v['store-url']) throw new UsageError('give the store once: --redis <url> or --store-url <url>, not both');
  let cfg: Partial<ServiceConfig>;
  try {
    cfg = v.redis ? { redisUrl: v.redis } : storeUrlConfig(v['store-url']!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.host) cfg.host = v.host;
  if (v['replica-redis']) cfg.replicaRedisUrl = v['replica-redis'];
  if (v['cluster-nat']) cfg.clusterNat = parseNatMap(v['cluster-nat']);
  if (v['instance-id']) cfg.instanceId = v['instance-id'];
  if (v['audit-log']) cfg.auditLog = v['audit-log'];
  if (v['model-latency-ms'] !== undefined) cfg.modelLatencyMs = v['model-latency-ms'];
  if (v.unsafe !== undefined) {
    try {
      cfg.unsafe = parseUnsafe(v.unsafe);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (v['default-consistency'] !== undefined) {
    if (!(CONSISTENCY_MODES as readonly string[]).includes(v['default-consistency'])) {
      throw new UsageError(`--default-consistency must be one of ${CONSISTENCY_MODES.join(', ')}; got "${v['default-consistency']}"`);
    }
    cfg.defaultConsistency = v['default-consistency'] as Consistency;
  }
  for (const [flag, field] of Object.entries(intFlags)) {
    const raw = v[flag];
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number; got "${raw}"`);
    (cfg as Record<string, number>)[field] = Number(raw);
  }
  if (v.tokens) cfg.tokens = readTokens(v.tokens);
  return cfg;
}

function parseNatMap(spec: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of spec.split(',').filter(Boolean)) {
    const [from, to, extra] = pair.split('=');
    if (!from || !to || extra !== undefined) throw new UsageError(`--cluster-nat: "${pair}" is not announced=reachable (e.g. 127.0.0.1:7000=127.0.0.1:41000)`);
    map[from] = to;
  }
  return map;
}

function readTokens(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--tokens ${file}: cannot read a JSON object from it (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((t) => typeof t === 'string')) {
    throw new UsageError(`--tokens ${file}: expected {"<token>": "<tenant>", ...}`);
  }
  return parsed as Record<string, string>;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const cfg = configFromArgv(argv);
    if (cfg === 'help') {
      process.stdout.write(help);
      return EXIT_OK;
    }
    let service;
    try {
      service = await startService(cfg);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
    process.stdout.write(`stateproof-service listening on ${service.url}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    process.stderr.write(`stateproof-service ${service.config.instanceId}: ${signal}, closing\n`);
    await service.close();
    return EXIT_OK;
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`stateproof-service: ${e.message}\n`);
      return e.exitCode;
    }
    if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
      process.stderr.write(`stateproof-service: ${(e as Error).message}: choose another --port (0 = ephemeral)\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
