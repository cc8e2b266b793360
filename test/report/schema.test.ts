import { describe, expect, it } from 'vitest';
import { createResult } from '../../src/report/build.ts';
import { REDACTED, redact, redactString } from '../../src/report/redact.ts';
import { checkResult, parseResult, RESULT_SCHEMA_VERSION } from '../../src/report/result-schema.ts';
import { stableStringify } from '../../src/report/stable-json.ts';
import { makeResult } from './fixture.ts';

describe('redact', () => {
  it('masks secret keys, URL passwords, secret query params and bearer tokens, and freezes', () => {
    const out = redact({
      redis: 'redis://default:hunter2@127.0.0.1:6379/0',
      target: 'https://api.example.test/v1?token=abc123&x=1',
      tokens: { 'tenant-a-token': 'tenant-a' },
      nested: [{ password: 'pw', note: 'Authorization: Bearer eyJhbGciOi.x.y' }],
      apiKey: 'k',
      emptyPassword: '',
      vus: 8,
    });
    expect(out.redis).toBe(`redis://default:${REDACTED}@127.0.0.1:6379/0`);
    expect(out.target).toBe(`https://api.example.test/v1?token=${REDACTED}&x=1`);
    expect(out.tokens).toBe(REDACTED);
    expect(out.nested[0]!.password).toBe(REDACTED);
    expect(out.nested[0]!.note).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(out.apiKey).toBe(REDACTED);
    expect(out.emptyPassword).toBe('');
    expect(out.vus).toBe(8);
    expect(Object.isFrozen(out) && Object.isFrozen(out.nested[0])).toBe(true);
    expect(JSON.stringify(out)).not.toMatch(/hunter2|abc123|eyJhbGciOi|tenant-a-token/);
  });

  it('leaves URLs without credentials alone', () => {
    expect(redactString('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactString('http://127.0.0.1:8080/v1/sessions/s1')).toBe('http://127.0.0.1:8080/v1/sessions/s1');
  });
});

describe('result schema', () => {
  it('builds a valid, redacted v1 result that survives a JSON round trip', () => {
    const { result } = makeResult({ durationSec: 30, withFaults: false });
    expect(result.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    const json = stableStringify(result);
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('abc.def');
    const back = parseResult(JSON.parse(json));
    expect(stableStringify(back)).toBe(json);
  });

  it('keeps the +Inf size bucket through JSON', () => {
    const { result } = makeResult({ durationSec: 20, withFaults: false });
    const buckets = result.stateHealth!.sizeBytes!.buckets;
    expect(buckets[buckets.length - 1]!.le).toBe('+Inf');
    expect(parseResult(JSON.parse(JSON.stringify(result))).stateHealth!.sizeBytes!.buckets.at(-1)!.le).toBe('+Inf');
  });

  it('names the bad fields of a malformed result', () => {
    const { result } = makeResult({ durationSec: 20, withFaults: false });
    const bad = JSON.parse(JSON.stringify(result));
    delete bad.verdict;
    bad.metrics.errorRate = 2;
    bad.unknownKey = 1;
    const r = checkResult(bad);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.join('\n');
    expect(problems).toMatch(/verdict/);
    expect(problems).toMatch(/metrics\.errorRate/);
    expect(problems).toMatch(/unknownKey/);
  });

  it('rejects another schema version and non-finite numbers', () => {
    const { result } = makeResult({ durationSec: 20, withFaults: false });
    expect(checkResult({ ...result, schemaVersion: 2 }).ok).toBe(false);
    expect(checkResult({ ...result, metrics: { ...result.metrics, throughputPerSec: Infinity } }).ok).toBe(false);
  });

  it('createResult redacts config even when the caller forgot', () => {
    const { result } = makeResult({ durationSec: 20, withFaults: false });
    const again = createResult({ ...result, config: { url: 'redis://u:secretpw@h:1', password: 'x' } });
    expect(JSON.stringify(again.config)).not.toMatch(/secretpw|"x"/);
  });
});
