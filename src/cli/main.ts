/**
 * The `stateproof` command: a table of subcommands, each in src/cli/commands/<name>.ts, loaded
 * lazily so `stateproof proxy` does not pay for the engine's imports.
 *
 * A command module exports `help: string` and `run(argv: string[]): Promise<number>` (the exit code).
 */
import { EXIT_ENVIRONMENT, EXIT_USAGE, isUserError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';
import { reportCrash } from './crash.ts';
import { describeParseArgsError, isParseArgsError } from './flag-errors.ts';

export interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

// Resolved at run time so a command lands with its own module, without editing this table's types.
const load = (file: string) => () => import(new URL(`./commands/${file}.ts`, import.meta.url).href) as Promise<Command>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  list: { summary: 'the scenarios, with their summaries, the safeguard each guards, faults and invariants', load: load('list') },
  run: { summary: 'run one scenario (or your k6 script) against a topology or --target', load: load('run') },
  suite: { summary: 'run every scenario and write one combined report', load: load('suite') },
  up: { summary: 'start Redis, fault proxies, service instances and a router; stay up until Ctrl-C', load: load('up') },
  proxy: { summary: 'a Toxiproxy-compatible fault proxy server (like toxiproxy-server)', load: load('proxy') },
  k6: { summary: 'run any k6 script with the built-in engine, as `k6 run` would', load: load('k6') },
  k8s: { summary: 'write k6-operator manifests (ConfigMap, TestRun, README) for a scenario; starts no cluster', load: load('k8s') },
  report: { summary: 're-render every report of a run from its result.json', load: load('report') },
  compare: { summary: 'put runs side by side; gate on regressions against a baseline', load: load('compare') },
  capacity: { summary: 'project session memory from a long-session run', load: load('capacity') },
  backend: { summary: 'backend check: probe what a backend profile declares against the live backend', load: load('backend') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'stateproof — load-testing and chaos harness for stateful AI backends',
    '',
    'Usage: stateproof <command> [options]     (stateproof <command> --help for its options)',
    '',
    'Commands:',
    ...lines,
    '',
    'Exit codes: 0 pass, 1 an invariant or threshold failed, 2 usage or config error, 3 environment problem,',
    '            4 stateproof itself failed (a harness bug; one line names the log file with the stack).',
  ].join('\n');
}

/**
 * The binary's entry: `main` plus the crash boundary. An exception that escapes a command, or that
 * is thrown later from a callback (uncaught) or a forgotten promise (unhandled), ends the process
 * with exit 4 and a crash log instead of Node's stack trace and exit 1.
 */
export async function runCli(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  const crash = (e: unknown) => {
    process.exitCode = reportCrash(e, { command, argv: rest });
    // 'exit' listeners (the cleanup registry) still stop every process this run started.
    process.exit();
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    return await main(argv);
  } catch (e) {
    return reportCrash(e, { command, argv: rest });
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v') {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    process.stdout.write(`stateproof ${pkg.version}\n`);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(
      `stateproof: unknown command '${name}'.${didYouMean(name, Object.keys(commands))}\n` +
        `Run 'stateproof --help' for the list of commands.\n`,
    );
    return EXIT_USAGE;
  }
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.ts`)) {
      process.stderr.write(`stateproof: the '${name}' command is not available in this build yet.\n`);
      return EXIT_ENVIRONMENT;
    }
    throw e;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help.trimEnd() + '\n');
    return 0;
  }
  await selfTestCrash(process.env.STATEPROOF_SELFTEST_CRASH);
  try {
    return await command.run(rest);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`stateproof ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    // node:util parseArgs throws these for unknown or malformed flags: a usage error, not a crash.
    if (isParseArgsError(e)) {
      process.stderr.write(`stateproof ${name}: ${describeParseArgsError(e, { command: name, help: command.help, argv: rest })}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/**
 * STATEPROOF_SELFTEST_CRASH=throw|uncaught|unhandled makes the command crash the three ways a bug
 * can, so the crash boundary is tested through the real binary (test/cli/crash.test.ts).
 */
async function selfTestCrash(how: string | undefined): Promise<void> {
  if (!how) return;
  const bug = new TypeError(`self-test crash (${how}) requested by STATEPROOF_SELFTEST_CRASH`);
  if (how === 'throw') throw bug;
  if (how === 'uncaught') setTimeout(() => { throw bug; }, 0);
  if (how === 'unhandled') void Promise.reject(bug);
  // The command does not start: the crash above ends the process on the next tick, so no user
  // error of the command can race it to stderr.
  if (how === 'uncaught' || how === 'unhandled') await new Promise<never>(() => {});
}
