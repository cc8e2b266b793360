/**
 * Requests Node's HTTP parser rejects never reach a handler; they must still get the contract's
 * problem+json with a stable code and a mode, not Node's bare 400.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, startRedisServer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

let redis: RedisServer;
let svc: ServiceHandle;
beforeAll(async () => {
  redis = await startRedisServer();
  svc = await service(redis);
});
afterAll(async () => {
  await svc?.close();
  await redis?.stop();
});

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(5_000, () => reject(new Error('no answer within 5 s')));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(request, 'latin1');
  });
}

describe('unparseable requests', () => {
  for (const [what, request] of [
    ['a NUL in the path', 'GET /v1/sessions/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown method', 'BREW /v1/sessions/a HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n'],
  ] as const) {
    it(`answers 400 malformed_request as problem+json for ${what}`, async () => {
      const answer = await raw(svc.port, request);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(answer).toMatch(/x-state-mode: normal/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body).toMatchObject({ status: 400, code: 'malformed_request' });
    });
  }
});
