/**
 * node:util parseArgs errors as one line a user can act on. Every command parses with parseArgs
 * and its own flag table; the table's flags are also its --help "Options:" lines, so the help
 * text is where the nearest flag and what a flag takes are looked up. A command (or a future
 * one) needs nothing of its own for this.
 *
 *   Unknown option '--profle'. To specify a positional …   → unknown flag '--profle'. Did you mean '--profile'? …
 *   Option '--sessions' argument is ambiguous. …           → --sessions needs a value (<n>: live sessions …); '-5' looks like a flag …
 *   Option '--target <value>' argument missing             → --target needs a value (<url>: an external backend …).
 */
import { didYouMean } from '../base/suggest.ts';

interface FlagHelp {
  names: string[];
  /** "--sessions <n>" as the help writes it. */
  usage: string;
  description: string;
}

/** The option lines of a help text: indented, starting with a dash, flags then two spaces then what they do. */
export function flagsFromHelp(help: string): FlagHelp[] {
  const out: FlagHelp[] = [];
  for (const line of help.split('\n')) {
    const m = /^\s{2,}(-.*?)(?:\s{2,}(.*))?$/.exec(line);
    if (!m) continue;
    const usage = m[1]!.trim();
    const names = [...usage.matchAll(/(?:^|[\s,])(--?[A-Za-z0-9][\w-]*)/g)].map((x) => x[1]!);
    if (names.length) out.push({ names, usage, description: (m[2] ?? '').trim() });
  }
  return out;
}

export function isParseArgsError(e: unknown): e is Error & { code: string } {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export function describeParseArgsError(e: Error & { code: string }, ctx: { command: string; help: string; argv: readonly string[] }): string {
  const flags = flagsFromHelp(ctx.help);
  const all = flags.flatMap((f) => f.names);
  const helpHint = `Run 'stateproof ${ctx.command} --help' for its flags.`;
  const message = e.message;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /Unknown option '([^']+)'/.exec(message)?.[1] ?? '?';
    // A one-letter flag is within one edit of every other: suggest long flags only.
    const near = flag.startsWith('--') ? didYouMean(flag, all.filter((n) => n.startsWith('--'))) : '';
    return `unknown flag '${flag}'.${near} ${helpHint}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const names = [...(/Option '([^']+)'/.exec(message)?.[1] ?? '').matchAll(/--?[A-Za-z0-9][\w-]*/g)].map((x) => x[0]);
    const flag = names.find((n) => n.startsWith('--')) ?? names[0] ?? '?';
    const entry = flags.find((f) => f.names.some((n) => names.includes(n)));
    const takes = entry ? ` (${entry.usage}${entry.description ? `: ${entry.description}` : ''})` : '';
    if (/does not take an argument/.test(message)) return `${flag} is a switch and takes no value${takes}. ${helpHint}`;
    const at = ctx.argv.findIndex((a) => names.includes(a));
    const next = at >= 0 ? ctx.argv[at + 1] : undefined;
    if (next !== undefined && next.startsWith('-')) {
      return `${flag} needs a value${takes}; '${next}' looks like a flag. To give a value that starts with '-', write ${flag}=${next}.`;
    }
    return `${flag} needs a value${takes}; got none.`;
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /Unexpected argument '([^']+)'/.exec(message)?.[1] ?? '?';
    return `unexpected argument '${arg}': this command takes only flags. ${helpHint}`;
  }
  return `${message.split('\n')[0]} ${helpHint}`;
}
