/** k6's common.ToBytes: the inputs k6/encoding and k6/crypto accept (strings are UTF-8). */
export function toBytes(input: unknown, what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (Array.isArray(input) && input.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) return Buffer.from(input as number[]);
  throw new Error(`${what}: invalid type ${input === null ? 'null' : typeof input}, expected string, []byte or ArrayBuffer`);
}

/** A copy of `b`'s bytes as a standalone ArrayBuffer (what k6 returns for binary output). */
export function arrayBufferOf(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
