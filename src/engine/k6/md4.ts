/** MD4 (RFC 1320), for k6/crypto's md4: OpenSSL 3 moved it to the legacy provider Node does not load. */
export function md4(message: Buffer): Buffer {
  const bitLength = message.length * 8;
  const padded = Buffer.alloc(((message.length + 8) >> 6) * 64 + 64);
  message.copy(padded);
  padded[message.length] = 0x80;
  padded.writeUInt32LE(bitLength >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bitLength / 2 ** 32), padded.length - 4);
  let a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
  const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));
  const X = new Array<number>(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) X[i] = padded.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const F = (x: number, y: number, z: number) => (x & y) | (~x & z);
    const G = (x: number, y: number, z: number) => (x & y) | (x & z) | (y & z);
    const H = (x: number, y: number, z: number) => x ^ y ^ z;
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + F(b, c, d) + X[i]!) | 0, 3);
      d = rotl((d + F(a, b, c) + X[i + 1]!) | 0, 7);
      c = rotl((c + F(d, a, b) + X[i + 2]!) | 0, 11);
      b = rotl((b + F(c, d, a) + X[i + 3]!) | 0, 19);
    }
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + G(b, c, d) + X[i]! + 0x5a827999) | 0, 3);
      d = rotl((d + G(a, b, c) + X[i + 4]! + 0x5a827999) | 0, 5);
      c = rotl((c + G(d, a, b) + X[i + 8]! + 0x5a827999) | 0, 9);
      b = rotl((b + G(c, d, a) + X[i + 12]! + 0x5a827999) | 0, 13);
    }
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + H(b, c, d) + X[i]! + 0x6ed9eba1) | 0, 3);
      d = rotl((d + H(a, b, c) + X[i + 8]! + 0x6ed9eba1) | 0, 9);
      c = rotl((c + H(d, a, b) + X[i + 4]! + 0x6ed9eba1) | 0, 11);
      b = rotl((b + H(c, d, a) + X[i + 12]! + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  [a, b, c, d].forEach((v, i) => out.writeInt32LE(v, i * 4));
  return out;
}
