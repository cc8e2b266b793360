import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROBLEMS } from '../../reference-service/errors.ts';
import { Client, service, startRedisServer, TOKEN_B, type Answer, type RedisServer } from './helpers.ts';
import type { ServiceHandle } from '../../reference-service/service.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = JSON.parse(readFileSync(path.join(root, 'reference-service/openapi.json'), 'utf8'));
const codes = Object.keys(PROBLEMS);

function schemaOf(schema: { $ref?: string; required?: string[] }): { required?: string[] } {
  return schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema;
}

describe('the published contract', () => {
  it('lists exactly the error registry\'s codes', () => {
    expect([...doc.components.schemas.Problem.properties.code.enum].sort()).toEqual([...codes].sort());
  });

  it('README documents every error code, safeguard switch and metric', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## Reference service');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1) === -1 ? undefined : readme.indexOf('\n## ', start + 1));
    for (const code of codes) expect(section, code).toContain(`\`${code}\``);
    for (const s of ['breaker', 'bounds', 'cas', 'migrations', 'observability']) expect(section, s).toContain(`\`${s}\``);
    for (const m of ['stateproof_state_op_duration_seconds', 'stateproof_state_size_bytes', 'stateproof_state_conflicts_total', 'stateproof_state_cache_total', 'stateproof_state_lifecycle_events_total', 'stateproof_breaker_state', 'stateproof_degraded_responses_total', 'stateproof_http_requests_total']) {
      expect(section, m).toContain(m);
    }
  });
});

describe('the service against the contract', () => {
  let redis: RedisServer;
  let svc: ServiceHandle;
  beforeAll(async () => {
    redis = await startRedisServer();
    svc = await service(redis, { maxTurnBytes: 50 });
  });
  afterAll(async () => {
    await svc?.close();
    await redis?.stop();
  });

  it('answers only statuses the document declares for each operation, with the declared fields', async () => {
    const a = new Client(svc.url);
    const b = new Client(svc.url, TOKEN_B);
    const calls: Array<[string, string, Promise<Answer>]> = [];
    const T = '/v1/sessions/{sessionId}/turns';
    const S = '/v1/sessions/{sessionId}';
    const seq = async (template: string, method: string, p: () => Promise<Answer>) => calls.push([template, method, Promise.resolve(await p())]);
    await seq(T, 'post', () => a.append('k1', 't1', 'hello'));
    await seq(T, 'post', () => a.append('k1', 't1', 'hello'));
    await seq(T, 'post', () => a.append('k1', 't2', 'hello', 0));
    await seq(T, 'post', () => a.append('k1', 't3', 'x'.repeat(60)));
    await seq(T, 'post', () => a.request('POST', '/v1/sessions/k1/turns', { body: '{"turnId":1}' }));
    await seq(T, 'post', () => a.request('POST', '/v1/sessions/k1/turns', { body: '{}', headers: { 'content-type': 'text/plain' } }));
    await seq(T, 'post', () => new Client(svc.url, null).append('k1', 't4', 'x'));
    await seq(S, 'get', () => a.read('k1'));
    await seq(S, 'get', () => a.read('k1', 'bounded'));
    await seq(S, 'get', () => a.read('k1', 'eventual'));
    await seq(S, 'get', () => b.read('k1'));
    await seq(S, 'get', () => a.request('GET', '/v1/sessions/k1?consistency=maybe'));
    await seq(S, 'delete', () => a.remove('k1'));
    await seq(S, 'delete', () => a.remove('k1'));
    await seq('/metrics', 'get', () => a.request('GET', '/metrics'));
    await seq('/healthz', 'get', () => a.request('GET', '/healthz'));
    await seq('/readyz', 'get', () => a.request('GET', '/readyz'));

    const seen = new Set<string>();
    for (const [template, method, p] of calls) {
      const ans = await p;
      const op = doc.paths[template]?.[method];
      expect(op, `${method} ${template}`).toBeDefined();
      const declared = op.responses[String(ans.status)];
      expect(declared, `${method} ${template} answered ${ans.status}, not in the document`).toBeDefined();
      expect(ans.headers.get('x-state-mode'), `${method} ${template}`).toMatch(/^(normal|degraded)$/);
      seen.add(`${method} ${template} ${ans.status}`);
      const content = declared.content?.['application/json'] ?? declared.content?.['application/problem+json'];
      if (content?.schema && typeof ans.body === 'object' && ans.body !== null) {
        for (const field of schemaOf(content.schema).required ?? []) expect(ans.body, `${method} ${template} ${ans.status}: ${field}`).toHaveProperty(field);
        if (ans.status >= 400) expect(ans.headers.get('content-type')).toContain('application/problem+json');
      }
    }
    // Every operation in the document was exercised.
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops as object)) expect([...seen].some((s) => s.startsWith(`${method} ${template} `)), `${method} ${template}`).toBe(true);
    }
  });
});
