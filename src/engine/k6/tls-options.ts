/**
 * k6's TLS options (insecureSkipTLSVerify, tlsVersion, tlsCipherSuites) as the connect options of
 * the engine's https: connections. Cipher suites are named as Go names them; each maps to
 * OpenSSL's name. A suite k6 knows but Node's OpenSSL lacks (RC4, 3DES) cannot be offered: it is
 * dropped with a warning naming it, and the option is refused when none of its suites is left.
 */
import { getCiphers } from 'node:tls';
import { UsageError } from '../../base/errors.ts';

export interface TlsConnectOptions {
  rejectUnauthorized?: boolean;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
}

const VERSIONS = { 'tls1.0': 'TLSv1', 'tls1.1': 'TLSv1.1', 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' } as const;

/** Go's crypto/tls suite names → OpenSSL's. */
const SUITES: Record<string, string> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

function version(v: unknown, field: string): TlsConnectOptions['minVersion'] {
  const n = VERSIONS[String(v) as keyof typeof VERSIONS];
  if (n === undefined) throw new UsageError(`${field}: expected one of ${Object.keys(VERSIONS).join(', ')}, got ${JSON.stringify(v)}`);
  return n;
}

/** The connect options for a run's https: connections, or undefined when the script sets none. */
export function tlsConnectOptions(options: Record<string, unknown>, warn: (message: string) => void): TlsConnectOptions | undefined {
  const out: TlsConnectOptions = {};
  if (options.insecureSkipTLSVerify === true) out.rejectUnauthorized = false;
  const v = options.tlsVersion;
  if (typeof v === 'string') out.minVersion = out.maxVersion = version(v, 'options.tlsVersion');
  else if (v && typeof v === 'object') {
    const { min, max } = v as { min?: unknown; max?: unknown };
    if (min !== undefined) out.minVersion = version(min, 'options.tlsVersion.min');
    if (max !== undefined) out.maxVersion = version(max, 'options.tlsVersion.max');
  }
  if (options.tlsCipherSuites !== undefined) {
    if (!Array.isArray(options.tlsCipherSuites)) throw new UsageError('options.tlsCipherSuites must be an array of cipher suite names');
    const available = new Set(getCiphers().map((c) => c.toUpperCase()));
    const kept: string[] = [];
    const dropped: string[] = [];
    for (const name of options.tlsCipherSuites.map(String)) {
      const openssl = SUITES[name];
      if (openssl === undefined) throw new UsageError(`options.tlsCipherSuites: unknown cipher suite name "${name}"`);
      if (available.has(openssl.toUpperCase())) kept.push(openssl);
      else dropped.push(name);
    }
    if (kept.length === 0) {
      throw new UsageError(`options.tlsCipherSuites: none of ${dropped.join(', ')} is available in Node's OpenSSL, so the built-in engine cannot offer them; run the script with real k6 (--k6) for it`);
    }
    if (dropped.length) warn(`options.tlsCipherSuites: ${dropped.join(', ')} not available in Node's OpenSSL; offering only ${kept.join(', ')}`);
    out.ciphers = kept.join(':');
  }
  return Object.keys(out).length ? out : undefined;
}
