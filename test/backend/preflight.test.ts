/** Preflight: a target that is unreachable or does not speak the contract is refused in seconds. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflight } from '../../src/backend/probe.ts';
import { startContractBackend, type ContractBackend } from './fixtures/contract-backend.ts';

let backend: ContractBackend;
let html: Server;
let htmlUrl: string;
beforeAll(async () => {
  backend = await startContractBackend({ instances: 2, tokens: { 'tok-a': 'a', 'tok-b': 'b' }, windowTurns: 8, ttlSeconds: 3, maxTurnBytes: 4096 });
  html = createServer((_req, res) => res.writeHead(501, { 'content-type': 'text/html' }).end('<h1>Not Implemented</h1>'));
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
  htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await backend.close();
  await new Promise((r) => html.close(r));
});

describe('preflight', () => {
  it('passes a contract backend on every instance with every token', async () => {
    expect(await preflight(backend.urls, ['tok-a', 'tok-b'])).toEqual({ requests: 20 });
  });

  it('refuses a closed port: connection refused, exit 3', async () => {
    await expect(preflight(['http://127.0.0.1:1'], [undefined])).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^http:\/\/127\.0\.0\.1:1: connection refused/) });
  });

  it('refuses a server that is not the contract, naming the answer', async () => {
    await expect(preflight([htmlUrl], [undefined])).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/\/v1\/sessions\/stateproof-preflight-\w+: GET answered 501 text\/html: .*not the stateproof contract/),
    });
  });

  it('refuses a token the backend does not accept, naming where tokens are set', async () => {
    await expect(preflight(backend.urls, ['tok-a', 'wrong'])).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/refused the bearer token \(tenant token #2\) \(401\).*tenants in the backend profile/) });
  });
});
