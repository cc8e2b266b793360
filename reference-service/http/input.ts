/**
 * Everything a client sends is checked here, before any of it can become part of a store key:
 * ids against strict allow-lists (so no traversal, CRLF, NUL, glob chars or 10 KB ids), the body by
 * a hand check (faster than zod on the hot path; see README), If-Match and the query.
 */
import type { IncomingMessage } from 'node:http';
import { ProblemError } from '../errors.ts';
import { CONSISTENCY_MODES, type Consistency } from '../config.ts';

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const TURN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function checkSessionId(id: string): string {
  if (!SESSION_ID.test(id)) throw new ProblemError('invalid_session_id', id.length > 64 ? `session id of ${id.length} characters rejected` : undefined);
  return id;
}

export interface TurnBody {
  turnId: string;
  content: string;
}

/** Exactly {turnId: string, content: string}; anything else is a 400 naming what was wrong. */
export function parseTurnBody(raw: string): TurnBody {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ProblemError('malformed_json');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProblemError('invalid_body', 'body must be a JSON object {"turnId", "content"}');
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (k !== 'turnId' && k !== 'content') throw new ProblemError('invalid_body', `unknown field "${k.slice(0, 64)}"`);
  }
  if (typeof o.turnId !== 'string') throw new ProblemError('invalid_body', 'turnId must be a string');
  if (typeof o.content !== 'string') throw new ProblemError('invalid_body', 'content must be a string');
  if (!TURN_ID.test(o.turnId)) throw new ProblemError('invalid_turn_id');
  return { turnId: o.turnId, content: o.content };
}

/** `5`, `"5"` or `W/"5"` → 5; absent → undefined. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (!m) throw new ProblemError('invalid_if_match');
  return Number(m[1]);
}

/** Only `consistency` is known; unknown parameters are a 400 rather than silently ignored. */
export function parseReadQuery(query: string, fallback: Consistency): Consistency {
  if (query === '') return fallback;
  let consistency = fallback;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    if (name !== 'consistency' || !(CONSISTENCY_MODES as readonly string[]).includes(value)) {
      throw new ProblemError('invalid_query', `unknown query parameter or value: ${part.slice(0, 64)}`);
    }
    consistency = value as Consistency;
  }
  return consistency;
}

/** Reads the body up to `limitBytes`; beyond it a 413 (the connection is then closed). */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(new ProblemError('body_too_large', `body of ${declared} bytes exceeds ${limitBytes}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        reject(new ProblemError('body_too_large', `body exceeds ${limitBytes} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}
