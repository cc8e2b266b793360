/**
 * Errors a user can cause, each with the exit code the CLI gives for it.
 * Anything thrown that is not one of these is a harness bug and is reported as such.
 *
 * Exit codes: 0 all invariants and thresholds hold; 1 one failed; 2 usage or config error;
 * 3 environment problem (something missing or unreachable on this machine); 4 stateproof itself
 * failed (a harness bug: the verdict is unknown, not failed); 105 interrupted (SIGINT/SIGTERM: the
 * run was cut short, its partial reports are written; k6's code for an external abort).
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_ENVIRONMENT = 3;
export const EXIT_INTERNAL = 4;
export const EXIT_INTERRUPTED = 105;

const brand = Symbol.for('stateproof.UserError');

export class UserError extends Error {
  readonly [brand] = true;
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, bad config, bad plan: the user must change what they asked for. */
export class UsageError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_USAGE, options);
  }
}

/** Something this machine lacks (a binary, a port, a reachable URL). */
export class EnvironmentError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_ENVIRONMENT, options);
  }
}

export function isUserError(e: unknown): e is UserError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
