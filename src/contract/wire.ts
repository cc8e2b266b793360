/**
 * The backend contract on the wire (DESIGN.md, "The backend contract"): the names any backend under
 * test answers with. The reference service writes them, the router adds its header, the scenarios
 * send and read them, the recorder and the checkers judge by them; all take them from here.
 *
 * Plain constants and no imports: scenarios bundle this file into k6 scripts, where only k6's own
 * modules exist. Header names are lower case as Node gives them; HTTP names are case-insensitive.
 */

/** Every contract response says `normal` or `degraded` here (and in the body's `mode`). */
export const STATE_MODE_HEADER = 'x-state-mode';
/** Which instance served a request: the router adds it, the reference service sets it too. */
export const INSTANCE_HEADER = 'x-stateproof-instance';

export const STATE_MODES = ['normal', 'degraded'] as const;
export type StateMode = (typeof STATE_MODES)[number];

/** `GET /v1/sessions/{id}?consistency=...` */
export const CONSISTENCY_MODES = ['strong', 'bounded', 'eventual'] as const;
export type Consistency = (typeof CONSISTENCY_MODES)[number];

/** The three operations on a session: POST .../turns, GET and DELETE of the session. */
export const OPS = ['append', 'read', 'delete'] as const;
export type Op = (typeof OPS)[number];

export const SESSIONS_PATH = '/v1/sessions/';
export const TURNS_SUFFIX = '/turns';

export function sessionPath(sessionId: string): string {
  return `${SESSIONS_PATH}${encodeURIComponent(sessionId)}`;
}

export function turnsPath(sessionId: string): string {
  return `${sessionPath(sessionId)}${TURNS_SUFFIX}`;
}

/** The operational endpoints every backend serves beside /v1. */
export const OPS_PATHS = Object.freeze({ metrics: '/metrics', healthz: '/healthz', readyz: '/readyz' });

/**
 * The problem codes the contract names, with their HTTP status. Errors are
 * `application/problem+json` with a stable `code`; a backend may answer others (the reference
 * service's registry has more), but these mean the same on every backend.
 */
export const CONTRACT_PROBLEMS = Object.freeze({
  /** An If-Match append whose revision is no longer current. */
  revision_conflict: 409,
  /** The stored state has a newer schema version than this instance knows; nothing was changed. */
  unsupported_schema_version: 409,
  /** The turn or the resulting state is over its byte limit; nothing was changed. */
  state_too_large: 413,
} as const);
export type ContractProblemCode = keyof typeof CONTRACT_PROBLEMS;

/** Whether an answer is the contract problem `code`: its status and its problem+json `code` both. */
export function isProblem(answer: { status: number; code?: string | undefined }, code: ContractProblemCode): boolean {
  return answer.status === CONTRACT_PROBLEMS[code] && answer.code === code;
}
