/**
 * The contract smoke every adapter passes through HTTP: append, replay, read, 404, auth, two
 * tenants isolated, delete, and a second adapter instance on the same store reading what the first
 * wrote (the processes hold no session state). What a replay does is the library's: each adapter
 * says whether its library dedupes by message id.
 */
import { expect } from 'vitest';
import { startContractServer, type ContractServer } from '../../../backends/shared/contract-server.ts';
import { parseTokens } from '../../../backends/shared/launcher.ts';
import type { MemoryAdapter } from '../../../backends/shared/memory.ts';
import { Client, TOKEN_A, TOKEN_B } from '../../reference-service/helpers.ts';

export const TOKENS = parseTokens(`tenant-a=${TOKEN_A},tenant-b=${TOKEN_B}`);

export async function serve(adapter: MemoryAdapter, name = 'adapter-under-test'): Promise<ContractServer> {
  return startContractServer({ adapter, tokens: TOKENS, name, log: () => {} });
}

export interface SmokeOptions {
  /** A fresh adapter on the shared store (called twice: two instances). */
  make: () => Promise<MemoryAdapter>;
  /** Whether the library itself recognises a replayed message id. */
  replayDedupes: boolean;
  session: string;
}

export async function contractSmoke(opts: SmokeOptions): Promise<void> {
  const one = await serve(await opts.make(), 'one');
  const two = await serve(await opts.make(), 'two');
  try {
    const a = new Client(one.url, TOKEN_A);
    const aOnTwo = new Client(two.url, TOKEN_A);
    const b = new Client(one.url, TOKEN_B);
    const s = opts.session;

    const first = await a.append(s, 't1', 'hello');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-state-mode')).toBe('normal');
    expect(first.body).toMatchObject({ sessionId: s, applied: true, turnCount: 1, revision: 1, mode: 'normal', reply: 'Noted (5 chars).' });
    // The second instance writes the second turn: nothing about the session lives in a process.
    expect((await aOnTwo.append(s, 't2', 'again')).body).toMatchObject({ applied: true, turnCount: 2 });

    const replay = await a.append(s, 't1', 'hello');
    expect(replay.status).toBe(200);
    expect(replay.body.applied).toBe(!opts.replayDedupes);

    const read = await aOnTwo.read(s);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-state-mode')).toBe('normal');
    const ids = read.body.turns.map((t: { turnId: string }) => t.turnId);
    expect(ids).toEqual(opts.replayDedupes ? ['t1', 't2'] : ['t1', 't2', 't1']);
    expect(read.body.turns[0]).toMatchObject({ turnId: 't1', user: 'hello', assistant: 'Noted (5 chars).' });
    expect(read.body.turnCount).toBe(opts.replayDedupes ? 2 : 3);
    expect(read.body.bytes).toBeGreaterThan(0);

    const missing = await a.read(`${s}-none`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(missing.headers.get('x-state-mode')).toBe('normal');
    expect(missing.body.code).toBe('session_not_found');

    // Tenant isolation: B sees no A session, and B's same-named session is its own.
    expect((await b.read(s)).status).toBe(404);
    expect((await b.append(s, 't1', 'bee')).body).toMatchObject({ applied: true, turnCount: 1 });
    expect((await b.read(s)).body.turns.map((t: { user: string }) => t.user)).toEqual(['bee']);
    expect((await a.read(s)).body.turns[0].user).toBe('hello');

    expect((await new Client(one.url, null).read(s)).body.code).toBe('unauthorized');
    expect((await new Client(one.url, 'nope').read(s)).body.code).toBe('invalid_token');
    expect((await a.read('../etc')).status).toBe(404);
    expect((await a.read('bad%20id')).body.code).toBe('invalid_session_id');
    const ifMatch = await a.append(s, 't9', 'x', 2);
    expect(ifMatch.status).toBe(400);
    expect(ifMatch.body.code).toBe('invalid_if_match');
    expect((await a.read(s, 'eventual')).body.code).toBe('invalid_query');

    expect((await a.request('GET', '/healthz')).status).toBe(200);
    expect((await a.request('GET', '/readyz')).status).toBe(200);

    expect((await a.remove(s)).status).toBe(204);
    expect((await aOnTwo.read(s)).status).toBe(404);
    expect((await b.read(s)).status).toBe(200);
  } finally {
    await one.close();
    await two.close();
  }
}
