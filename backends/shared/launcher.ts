/**
 * The command line every adapter's main.ts shares, so the harness can start N of them alike:
 *
 *   node --import tsx backends/<name>/main.ts --store-url <url> [--port 0] [--host 127.0.0.1]
 *        [--tokens tenant-a=tenant-a-token,tenant-b=tenant-b-token] [--window-turns 20]
 *
 * Prints exactly one line to stdout when ready (`<name> listening on http://127.0.0.1:<port>`);
 * logs go to stderr; SIGTERM/SIGINT close it and exit 0. A library that throws at start-up is
 * reported in one line (exit 3), a bad flag in one line (exit 2), never a stack trace.
 */
import { parseArgs } from 'node:util';
import { EXIT_ENVIRONMENT, EXIT_OK, isUserError, UsageError } from '../../src/base/errors.ts';
import { startContractServer } from './contract-server.ts';
import type { MemoryAdapter } from './memory.ts';

export interface LaunchOptions {
  host: string;
  port: number;
  storeUrl: string;
  /** token → tenant */
  tokens: Map<string, string>;
  windowTurns: number;
}

const STARTUP_TIMEOUT_MS = 10_000;

export const LAUNCH_DEFAULTS = { host: '127.0.0.1', port: 0, windowTurns: 20, tokens: 'tenant-a=tenant-a-token,tenant-b=tenant-b-token' } as const;

export function usage(name: string, storeExample: string): string {
  return `Usage: ${name} --store-url <url> [options]

A stateproof contract adapter (reference-service/openapi.json); see backends/README.md.

Options:
  --store-url <url>            the library's store, e.g. ${storeExample} (required)
  --host <h>                   listen address (default ${LAUNCH_DEFAULTS.host})
  --port <n>                   listen port; 0 = ephemeral (default ${LAUNCH_DEFAULTS.port})
  --tokens <list>              tenant=token,... (default ${LAUNCH_DEFAULTS.tokens})
  --window-turns <n>           turns the library is configured to return (default ${LAUNCH_DEFAULTS.windowTurns})
  -h, --help
`;
}

export function parseLaunchArgs(argv: string[], help: string): LaunchOptions | 'help' {
  const str = { type: 'string' } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { 'store-url': str, host: str, port: str, tokens: str, 'window-turns': str, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n\n${help}`);
  }
  if (values.help) return 'help';
  const storeUrl = values['store-url'];
  if (typeof storeUrl !== 'string' || storeUrl === '') throw new UsageError(`--store-url <url> is required.\n\n${help}`);
  return {
    host: typeof values.host === 'string' ? values.host : LAUNCH_DEFAULTS.host,
    port: wholeNumber('--port', values.port, LAUNCH_DEFAULTS.port),
    storeUrl,
    tokens: parseTokens(typeof values.tokens === 'string' ? values.tokens : LAUNCH_DEFAULTS.tokens),
    windowTurns: Math.max(1, wholeNumber('--window-turns', values['window-turns'], LAUNCH_DEFAULTS.windowTurns)),
  };
}

function wholeNumber(flag: string, raw: string | boolean | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number; got "${String(raw)}"`);
  return Number(raw);
}

/** `tenant=token,...` → token → tenant. */
export function parseTokens(list: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const part of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new UsageError(`--tokens: "${part}" is not tenant=token (example: --tokens tenant-a=secret-a,tenant-b=secret-b)`);
    const token = part.slice(eq + 1);
    if (tokens.has(token)) throw new UsageError(`--tokens: token "${token}" names two tenants`);
    tokens.set(token, part.slice(0, eq));
  }
  if (tokens.size === 0) throw new UsageError('--tokens: list at least one tenant=token');
  return tokens;
}

/** Runs an adapter as a process: parse flags, build the adapter, listen, print the URL, stop on a signal. */
export async function runAdapterMain(name: string, storeExample: string, build: (opts: LaunchOptions) => Promise<MemoryAdapter>, argv = process.argv.slice(2)): Promise<void> {
  const help = usage(name, storeExample);
  try {
    const opts = parseLaunchArgs(argv, help);
    if (opts === 'help') {
      process.stdout.write(help);
      return;
    }
    let adapter: MemoryAdapter;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Redis clients reconnect for ever rather than fail; start-up alone gets a deadline (runs get none).
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`it did not connect within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      });
      adapter = await Promise.race([build(opts), deadline]);
    } catch (e) {
      if (isUserError(e)) throw e;
      process.stderr.write(`${name}: the library failed at start-up against ${redact(opts.storeUrl)}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
      process.exit(EXIT_ENVIRONMENT);
    } finally {
      clearTimeout(timer);
    }
    const server = await startContractServer({ adapter, tokens: opts.tokens, name, host: opts.host, port: opts.port });
    process.stdout.write(`${name} listening on ${server.url}\n`);
    const stop = () => void server.close().then(() => process.exit(EXIT_OK));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (e) {
    if (!isUserError(e)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exitCode = e.exitCode;
  }
}

/** A client that fails to reconnect says so every few ms; a line per change of message is enough. */
export function changesOnly(log: (line: string) => void): (line: string) => void {
  let last: string | undefined;
  return (line) => {
    if (line !== last) log(line);
    last = line;
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
