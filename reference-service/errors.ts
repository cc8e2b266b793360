/**
 * Every problem the reference service can answer with, in one registry (fastify-style): a stable
 * `code`, the HTTP status and a title. Responses are RFC 9457 `application/problem+json`.
 * The README's "Error codes" table must list every code here (a test checks it). The codes the
 * contract names take their status from it (src/contract/wire.ts), and must all be here.
 */
import { CONTRACT_PROBLEMS, type ContractProblemCode } from '../src/contract/wire.ts';

interface Problem {
  status: number;
  title: string;
}

export const PROBLEMS = {
  malformed_request: { status: 400, title: 'The HTTP request could not be parsed (bad framing, characters or method).' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON.' },
  invalid_body: { status: 400, title: 'The request body does not match the schema (wrong type, missing or unknown field).' },
  invalid_session_id: { status: 400, title: 'The session id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$.' },
  invalid_turn_id: { status: 400, title: 'The turnId must match ^[A-Za-z0-9_.:-]{1,128}$.' },
  invalid_if_match: { status: 400, title: 'If-Match must be a revision number (optionally quoted).' },
  invalid_query: { status: 400, title: 'Unknown query parameter or value (consistency must be strong, bounded or eventual).' },
  unauthorized: { status: 401, title: 'Missing bearer token.' },
  invalid_token: { status: 401, title: 'The bearer token names no tenant.' },
  session_not_found: { status: 404, title: 'No such session.' },
  route_not_found: { status: 404, title: 'No such route.' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route.' },
  revision_conflict: { status: CONTRACT_PROBLEMS.revision_conflict, title: 'The session revision differs from If-Match.' },
  unsupported_schema_version: { status: CONTRACT_PROBLEMS.unsupported_schema_version, title: 'The stored state has a newer schema version than this instance knows; it was not changed.' },
  state_too_large: { status: CONTRACT_PROBLEMS.state_too_large, title: 'The turn or the resulting session state exceeds its byte limit; nothing was changed.' },
  body_too_large: { status: 413, title: 'The request body exceeds the transport limit.' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json.' },
  store_unavailable: { status: 503, title: 'The state store is unavailable; the write was not acknowledged. Retry later (idempotent by turnId).' },
  write_contention: { status: 503, title: 'Too many concurrent writers on this session; the write was not applied. Retry later.' },
  overloaded: { status: 503, title: 'Too many requests in flight; retry later.' },
  corrupt_state: { status: 500, title: 'The stored session state could not be parsed.' },
  internal_error: { status: 500, title: 'Unexpected error.' },
} as const satisfies Record<string, Problem> & Record<ContractProblemCode, Problem>;

export type ProblemCode = keyof typeof PROBLEMS;

const brand = Symbol.for('stateproof.ProblemError');

/** A failure that becomes a problem+json answer. `retryAfterS` adds Retry-After (503s). */
export class ProblemError extends Error {
  readonly [brand] = true;
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly retryAfterS?: number,
    options?: { cause?: unknown },
  ) {
    super(detail ?? PROBLEMS[code].title, options);
    this.name = 'ProblemError';
    this.status = PROBLEMS[code].status;
  }
}

export function isProblemError(e: unknown): e is ProblemError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

export function problemBody(code: ProblemCode, detail: string | undefined, instance: string | undefined): string {
  const p = PROBLEMS[code];
  return JSON.stringify({
    type: `https://stateproof.dev/problems/${code}`,
    title: p.title,
    status: p.status,
    code,
    ...(detail !== undefined ? { detail } : {}),
    ...(instance !== undefined ? { instance } : {}),
  });
}
