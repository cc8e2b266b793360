/**
 * k6/http values as they cross between a blocking VU's worker and its host: responses one way,
 * request params (with the class instances structured clone would strip) the other.
 */
import type { RequestInfo, Timings } from '../k6/response.ts';

export interface WireResponse {
  status: number;
  status_text: string;
  url: string;
  body: string | ArrayBuffer | null;
  headers: Record<string, string>;
  error: string;
  error_code: number;
  timings: Timings;
  proto: string;
  request: RequestInfo;
  cookies: Record<string, unknown>;
  remote_ip: string;
  remote_port: number;
  tls_version: string;
  tls_cipher_suite: string;
  ocsp: Record<string, unknown>;
}

/** The parts of a k6 Response a WireResponse is made from (the engine's Response has them all). */
export type ResponseLike = Omit<WireResponse, never>;

export function toWireResponse(r: ResponseLike): WireResponse {
  return {
    status: r.status,
    status_text: r.status_text,
    url: r.url,
    body: r.body,
    headers: r.headers,
    error: r.error,
    error_code: r.error_code,
    timings: r.timings,
    proto: r.proto,
    request: r.request,
    cookies: r.cookies,
    remote_ip: r.remote_ip,
    remote_port: r.remote_port,
    tls_version: r.tls_version,
    tls_cipher_suite: r.tls_cipher_suite,
    ocsp: r.ocsp,
  };
}

/** params.responseCallback (an ExpectedStatuses) as status ranges. */
export interface WireExpected {
  __expected: Array<[number, number]> | null;
}

/** A CookieJar made in the worker, by the id the host knows it under. */
export interface WireJar {
  __jar: number;
}

export const isWireExpected = (v: unknown): v is WireExpected => typeof v === 'object' && v !== null && '__expected' in v;
export const isWireJar = (v: unknown): v is WireJar => typeof v === 'object' && v !== null && '__jar' in v;
