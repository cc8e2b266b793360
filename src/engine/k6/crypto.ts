/**
 * `k6/crypto`: hashes, HMAC and random bytes on Node's crypto. Node's module is loaded on first use:
 * a blocking VU's worker that never hashes does not pay for it. MD4, which OpenSSL 3 no longer
 * ships, is computed by ./md4.ts.
 */
import type * as NodeCrypto from 'node:crypto';
import { arrayBufferOf, toBytes } from './bytes.ts';
import { md4 } from './md4.ts';

let node: typeof NodeCrypto | undefined;
const nodeCrypto = (): typeof NodeCrypto => (node ??= process.getBuiltinModule('node:crypto'));

/** k6's algorithm names → OpenSSL's. */
const ALGORITHMS: Record<string, string> = {
  md4: 'md4', md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
  sha512_224: 'sha512-224', sha512_256: 'sha512-256', ripemd160: 'ripemd160',
};

function algorithm(name: string): string {
  const a = ALGORITHMS[name];
  if (a === undefined) throw new Error(`invalid algorithm: ${name}`);
  return a;
}

function digestOf(alg: string, parts: Buffer[], key: Buffer | undefined): Buffer {
  if (alg === 'md4') {
    if (key !== undefined) return hmacWith(md4, 64, key, Buffer.concat(parts));
    return md4(Buffer.concat(parts));
  }
  const h = key !== undefined ? nodeCrypto().createHmac(alg, key) : nodeCrypto().createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** RFC 2104 HMAC over a hash OpenSSL lacks. */
function hmacWith(hash: (b: Buffer) => Buffer, blockSize: number, key: Buffer, data: Buffer): Buffer {
  let k = key.length > blockSize ? hash(key) : key;
  k = Buffer.concat([k, Buffer.alloc(blockSize - k.length)]);
  const pad = (b: number) => Buffer.from(k.map((x) => x ^ b));
  return hash(Buffer.concat([pad(0x5c), hash(Buffer.concat([pad(0x36), data]))]));
}

function encode(sum: Buffer, outputEncoding: string): string | ArrayBuffer {
  switch (outputEncoding) {
    case 'base64':
      return sum.toString('base64');
    case 'base64url':
      return sum.toString('base64url').padEnd(Math.ceil(sum.length / 3) * 4, '=');
    case 'base64rawurl':
      return sum.toString('base64url');
    case 'hex':
      return sum.toString('hex');
    case 'binary':
      return arrayBufferOf(sum);
    default:
      throw new Error(`invalid output encoding: ${outputEncoding}`);
  }
}

/** k6's Hasher: digest() may be called more than once and sees everything updated so far (Go's Sum). */
class Hasher {
  private readonly parts: Buffer[] = [];
  constructor(
    private readonly alg: string,
    private readonly key?: Buffer,
  ) {}
  update(input: unknown): void {
    this.parts.push(toBytes(input, 'update'));
  }
  digest(outputEncoding: string): string | ArrayBuffer {
    return encode(digestOf(this.alg, this.parts, this.key), outputEncoding);
  }
}

const hashFn = (name: string) => (input: unknown, outputEncoding: string) => {
  const h = new Hasher(algorithm(name));
  h.update(input);
  return h.digest(outputEncoding);
};

export const crypto = {
  createHash: (name: string) => new Hasher(algorithm(name)),
  createHMAC: (name: string, key: unknown) => new Hasher(algorithm(name), toBytes(key, 'createHMAC')),
  hmac(name: string, key: unknown, input: unknown, outputEncoding: string) {
    const h = new Hasher(algorithm(name), toBytes(key, 'hmac'));
    h.update(input);
    return h.digest(outputEncoding);
  },
  md4: hashFn('md4'),
  md5: hashFn('md5'),
  sha1: hashFn('sha1'),
  sha256: hashFn('sha256'),
  sha384: hashFn('sha384'),
  sha512: hashFn('sha512'),
  sha512_224: hashFn('sha512_224'),
  sha512_256: hashFn('sha512_256'),
  ripemd160: hashFn('ripemd160'),
  randomBytes(size: number): ArrayBuffer {
    if (!(size >= 1)) throw new Error('invalid size');
    return arrayBufferOf(nodeCrypto().randomBytes(Math.floor(size)));
  },
  hexEncode: (data: unknown) => toBytes(data, 'hexEncode').toString('hex'),
};
