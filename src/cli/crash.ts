/**
 * A harness crash is not a verdict. Anything thrown that is not a UserError ends the command with
 * exit 4 and one line on stderr naming a log file that holds the stack, so CI can tell "stateproof
 * broke" (4) from "an invariant failed" (1) and a user is not handed a stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_INTERNAL } from '../base/errors.ts';

/** Where crash logs go: $STATEPROOF_LOG_DIR, else the system's temporary directory. */
export function crashLogDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STATEPROOF_LOG_DIR || tmpdir();
}

export function reportCrash(error: unknown, context: { command: string; argv: readonly string[] }): number {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(crashLogDir(), `stateproof-crash-${stamp}-${process.pid}.log`);
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  const lines = [
    `stateproof crash log`,
    `time: ${new Date().toISOString()}`,
    `command: stateproof ${[context.command, ...context.argv].join(' ')}`,
    `node: ${process.version} ${process.platform}-${process.arch}`,
    `cwd: ${process.cwd()}`,
    '',
    detail,
    ...(error instanceof Error && error.cause !== undefined ? ['', 'cause:', causeText(error.cause)] : []),
    '',
  ];
  let where = file;
  try {
    mkdirSync(crashLogDir(), { recursive: true });
    writeFileSync(file, lines.join('\n'));
  } catch {
    // The log could not be written: the details go to stderr instead, so they are not lost.
    where = 'stderr (the log file could not be written)';
    process.stderr.write(lines.join('\n'));
  }
  const summary = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(
    `stateproof: internal error, stateproof itself failed (exit ${EXIT_INTERNAL}; this is not a verdict on the backend): ${firstLine(summary)}\n` +
      `  details: ${where}\n`,
  );
  return EXIT_INTERNAL;
}

function causeText(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}
