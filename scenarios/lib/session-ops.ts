/**
 * The contract's operations as scenarios use them: each call makes one request, classifies what
 * came back, and records it in the history the checkers read. Valid k6 code (no Node APIs), so the
 * same source runs under real k6 and the built-in engine.
 *
 * Outcome rules (DESIGN.md, "Correctness"): a 2xx is `ok`; a 4xx is `fail` (the contract promises
 * nothing changed); a 503 or any other 5xx, a timeout or a reset is `unknown` for a write, because
 * the store may have applied it after the service gave up waiting. A read that got no answer is a
 * `fail`: it observed nothing.
 */
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import { intendedStartMs, recordOp, type OpEntry } from './history.ts';
import { authHeaders, OWN_TENANT, sessionUrl, turnsUrl } from './contract.ts';
import { INSTANCE_HEADER, STATE_MODE_HEADER, STATE_MODES, type Consistency, type StateMode } from '../../src/contract/wire.ts';

export type { Consistency };

export interface AppendOptions {
  token?: string;
  /** Tenant label recorded in the history (set with `token` for a second tenant). */
  tenant?: string;
  /** Record the operation as this client instead of the VU (a second client sending the same turn). */
  client?: number;
  ifMatch?: number;
  timeoutMs?: number;
  tags?: Record<string, string>;
}

export interface AppendResult {
  status: number;
  ok: boolean;
  revision?: number;
  turnCount?: number;
  applied?: boolean;
  mode?: string;
  code?: string;
  schemaVersion?: number;
}

export interface ReadResult {
  status: number;
  ok: boolean;
  revision?: number;
  turnCount?: number;
  turnIds?: string[];
  summary?: string;
  bytes?: number;
  mode?: string;
  schemaVersion?: number;
  code?: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * A write whose iteration is interrupted (the executor's graceful stop ran out, or the run was
 * stopped) was sent and may have been applied: it is recorded as unknown before the interruption
 * goes on, or a turn the service applied would later read as a phantom write. The built-in engine
 * ends the request with an AbortError; under real k6 an interrupted iteration runs no more code.
 */
async function interruptible<T>(request: Promise<T>, op: Pick<OpEntry, 'op' | 'vu' | 'tenant' | 'session' | 'turnId' | 'ifMatch'> & { startMs: number }): Promise<T> {
  try {
    return await request;
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name === 'AbortError') {
      recordOp({ ...op, intendedStartMs: intendedStartMs(op.startMs), endMs: Date.now(), outcome: 'unknown', status: 0, code: 'interrupted' });
    }
    throw e;
  }
}

export async function appendTurn(session: string, turnId: string, content: string, opts: AppendOptions = {}): Promise<AppendResult> {
  const headers = authHeaders(opts.token);
  if (opts.ifMatch !== undefined) headers['If-Match'] = String(opts.ifMatch);
  const startMs = Date.now();
  const res = await interruptible(
    http.asyncRequest('POST', turnsUrl(session), JSON.stringify({ turnId, content }), {
      headers,
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      tags: { op: 'append', ...opts.tags },
      responseCallback: http.expectedStatuses({ min: 200, max: 499 }),
    }),
    { op: 'append', vu: opts.client, tenant: opts.tenant ?? OWN_TENANT, session, turnId, ifMatch: opts.ifMatch, startMs },
  );
  const endMs = Date.now();
  const body = parse(res);
  const outcome = res.status >= 200 && res.status < 300 ? 'ok' : res.status >= 400 && res.status < 500 ? 'fail' : 'unknown';
  const result: AppendResult = {
    status: res.status,
    ok: outcome === 'ok',
    revision: num(body?.revision),
    turnCount: num(body?.turnCount),
    applied: typeof body?.applied === 'boolean' ? body.applied : undefined,
    mode: stateMode(res, body),
    code: str(body?.code) ?? (res.status === 0 ? `transport:${res.error_code}` : undefined),
    schemaVersion: num(body?.schemaVersion),
  };
  recordOp({
    op: 'append',
    vu: opts.client,
    tenant: opts.tenant ?? OWN_TENANT,
    session,
    turnId,
    ifMatch: opts.ifMatch,
    intendedStartMs: intendedStartMs(startMs),
    startMs,
    endMs,
    outcome,
    status: res.status,
    code: result.code,
    revision: result.revision,
    turnCount: result.turnCount,
    applied: result.applied,
    mode: modeOf(result.mode),
    schemaVersion: result.schemaVersion,
    instance: instanceOf(res),
  });
  return result;
}

export async function readSession(
  session: string,
  consistency?: Consistency,
  opts: { token?: string; tenant?: string; timeoutMs?: number; tags?: Record<string, string>; /** Record the summary text in the history. */ withSummary?: boolean } = {},
): Promise<ReadResult> {
  const url = consistency ? `${sessionUrl(session)}?consistency=${consistency}` : sessionUrl(session);
  const startMs = Date.now();
  const res = await http.asyncRequest('GET', url, null, {
    headers: authHeaders(opts.token),
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    tags: { op: 'read', ...opts.tags },
    responseCallback: http.expectedStatuses({ min: 200, max: 499 }),
  });
  const endMs = Date.now();
  const body = parse(res);
  // 404 is an observation too: the session has no turns (yet, or any more).
  const observed = res.status === 200 || res.status === 404;
  const turns = Array.isArray(body?.turns) ? (body.turns as Array<Record<string, unknown>>) : undefined;
  const result: ReadResult = {
    status: res.status,
    ok: observed,
    revision: res.status === 404 ? 0 : num(body?.revision),
    turnCount: res.status === 404 ? 0 : num(body?.turnCount),
    turnIds: res.status === 404 ? [] : turns?.map((t) => String(t.turnId)),
    summary: str(body?.summary),
    bytes: num(body?.bytes),
    mode: stateMode(res, body),
    schemaVersion: num(body?.schemaVersion),
    code: str(body?.code) ?? (res.status === 0 ? `transport:${res.error_code}` : undefined),
  };
  recordOp({
    op: 'read',
    tenant: opts.tenant ?? OWN_TENANT,
    session,
    consistency,
    intendedStartMs: intendedStartMs(startMs),
    startMs,
    endMs,
    outcome: observed ? 'ok' : 'fail',
    status: res.status,
    code: res.status === 404 ? undefined : result.code,
    revision: result.revision,
    turnCount: result.turnCount,
    turnIds: result.turnIds,
    mode: modeOf(result.mode),
    schemaVersion: result.schemaVersion,
    bytes: result.bytes,
    summary: opts.withSummary ? result.summary : undefined,
    instance: instanceOf(res),
  });
  return result;
}

export async function deleteSession(session: string, opts: { token?: string; tenant?: string; timeoutMs?: number } = {}): Promise<{ status: number; ok: boolean }> {
  const startMs = Date.now();
  const res = await interruptible(
    http.asyncRequest('DELETE', sessionUrl(session), null, {
      headers: authHeaders(opts.token),
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      tags: { op: 'delete' },
      responseCallback: http.expectedStatuses({ min: 200, max: 499 }),
    }),
    { op: 'delete', tenant: opts.tenant ?? OWN_TENANT, session, startMs },
  );
  const endMs = Date.now();
  const outcome = res.status >= 200 && res.status < 300 ? 'ok' : res.status >= 400 && res.status < 500 ? 'fail' : 'unknown';
  recordOp({
    op: 'delete',
    tenant: opts.tenant ?? OWN_TENANT,
    session,
    intendedStartMs: intendedStartMs(startMs),
    startMs,
    endMs,
    outcome,
    status: res.status,
    code: res.status === 0 ? `transport:${res.error_code}` : undefined,
    mode: modeOf(stateMode(res, parse(res))),
    instance: instanceOf(res),
  });
  return { status: res.status, ok: outcome === 'ok' };
}

function parse(res: RefinedResponse<ResponseType | undefined>): Record<string, unknown> | undefined {
  if (typeof res.body !== 'string' || res.body.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(res.body);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** k6 (and the built-in engine, as k6 does) canonicalises header names: x-state-mode → X-State-Mode. */
const canonical = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
const STATE_MODE = { canonical: canonical(STATE_MODE_HEADER), lower: STATE_MODE_HEADER };
const INSTANCE = { canonical: canonical(INSTANCE_HEADER), lower: INSTANCE_HEADER };

function header(res: RefinedResponse<ResponseType | undefined>, name: { canonical: string; lower: string }): string | undefined {
  const h = res.headers as Record<string, string | undefined>;
  return h[name.canonical] ?? h[name.lower];
}

function stateMode(res: RefinedResponse<ResponseType | undefined>, body: Record<string, unknown> | undefined): string | undefined {
  return header(res, STATE_MODE) ?? str(body?.mode);
}

function modeOf(mode: string | undefined): StateMode | undefined {
  return (STATE_MODES as readonly string[]).includes(mode as string) ? (mode as StateMode) : undefined;
}

function instanceOf(res: RefinedResponse<ResponseType | undefined>): string | undefined {
  return header(res, INSTANCE);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
