import { describe, expect, it } from 'vitest';
import { tlsConnectOptions } from '../../src/engine/k6/tls-options.ts';

describe("k6's TLS options as connect options", () => {
  it('maps insecureSkipTLSVerify, tlsVersion and Go cipher-suite names', () => {
    const warnings: string[] = [];
    expect(
      tlsConnectOptions({ insecureSkipTLSVerify: true, tlsVersion: { min: 'tls1.2', max: 'tls1.3' }, tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_RC4_128_SHA'] }, (m) => warnings.push(m)),
    ).toEqual({ rejectUnauthorized: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(warnings).toEqual([expect.stringMatching(/TLS_RSA_WITH_RC4_128_SHA not available in Node's OpenSSL/)]);
    expect(tlsConnectOptions({ tlsVersion: 'tls1.3' }, () => {})).toEqual({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(tlsConnectOptions({}, () => {})).toBeUndefined();
  });

  it('refuses what it cannot apply, naming it', () => {
    expect(() => tlsConnectOptions({ tlsCipherSuites: ['TLS_RSA_WITH_RC4_128_SHA'] }, () => {})).toThrow(/none of TLS_RSA_WITH_RC4_128_SHA is available in Node's OpenSSL/);
    expect(() => tlsConnectOptions({ tlsCipherSuites: ['TLS_NOPE'] }, () => {})).toThrow(/unknown cipher suite name "TLS_NOPE"/);
    expect(() => tlsConnectOptions({ tlsVersion: 'ssl3' }, () => {})).toThrow(/options.tlsVersion: expected one of tls1.0/);
  });
});
