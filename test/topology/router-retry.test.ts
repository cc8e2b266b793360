import { describe, expect, it } from 'vitest';
import { judgeFailedAttempt, UPSTREAM_TIMEOUT } from '../../src/topology/router-forward.ts';

describe('router retry rule', () => {
  it('a refused connect marks the instance down and retries elsewhere, whatever the method', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']) {
      for (const method of ['POST', 'GET']) {
        for (const reused of [false, true]) expect(judgeFailedAttempt(code, method, reused)).toEqual({ markDown: true, retry: true });
      }
    }
  });

  it('a timeout marks the instance down but is never retried: the request may have been applied', () => {
    for (const method of ['GET', 'POST']) expect(judgeFailedAttempt(UPSTREAM_TIMEOUT, method, true)).toEqual({ markDown: true, retry: false });
  });

  it('a reset on a pooled socket is retried for idempotent methods only, and marks nothing down', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) {
      expect(judgeFailedAttempt('ECONNRESET', method, true)).toEqual({ markDown: false, retry: true });
    }
    for (const method of ['POST', 'PATCH', undefined]) {
      expect(judgeFailedAttempt('ECONNRESET', method, true)).toEqual({ markDown: false, retry: false });
    }
  });

  it('a reset on a fresh socket is never retried: the instance got the request and died', () => {
    expect(judgeFailedAttempt('ECONNRESET', 'GET', false)).toEqual({ markDown: false, retry: false });
  });

  it('any other failure is neither retried nor marked down', () => {
    for (const code of ['EPIPE', 'ERROR', 'HPE_INVALID_CONSTANT']) expect(judgeFailedAttempt(code, 'GET', true)).toEqual({ markDown: false, retry: false });
  });
});
