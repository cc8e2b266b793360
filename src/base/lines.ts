/**
 * A file's lines, read a chunk at a time: a log or a spilled history may pass V8's longest string
 * (about 512 MiB), which readFile(…, 'utf8') then cannot return.
 */
import fs from 'node:fs';

/** The lines of a file (without their '\n'), read `chunkBytes` at a time. */
export function* linesOf(file: string, chunkBytes = 8 * 1024 * 1024): Generator<string> {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkBytes);
    // The bytes of a line the last chunk cut, kept as bytes: decoding them alone could split a
    // multi-byte character.
    let carry: Buffer[] = [];
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunkBytes, null);
      if (n === 0) break;
      // No UTF-8 multi-byte character contains the byte '\n': split on bytes.
      const end = chunk.lastIndexOf(10, n - 1);
      if (end < 0) {
        carry.push(Buffer.from(chunk.subarray(0, n)));
        continue;
      }
      const text = Buffer.concat([...carry, chunk.subarray(0, end)]).toString('utf8');
      carry = [Buffer.from(chunk.subarray(end + 1, n))];
      for (const line of text.split('\n')) if (line) yield line;
    }
    const rest = Buffer.concat(carry).toString('utf8');
    if (rest) yield rest;
  } finally {
    fs.closeSync(fd);
  }
}
