/**
 * A file's lines, read a chunk at a time: a log or a spilled history may pass V8's longest string
 * (about 512 MiB), which readFile(…, 'utf8') then cannot return.
 */
import fs from 'node:fs';

/**
 * The lines of a file (without their '\n'), read `chunkBytes` at a time. With `reopen` the file
 * is opened for each chunk and closed after it, so that thousands of these read side by side (a
 * merge of partition files) hold no descriptor between chunks.
 */
export function* linesOf(file: string, chunkBytes = 8 * 1024 * 1024, reopen = false): Generator<string> {
  let fd = reopen ? -1 : fs.openSync(file, 'r');
  let at = 0;
  const read = (into: Buffer): number => {
    if (!reopen) return fs.readSync(fd, into, 0, into.length, null);
    fd = fs.openSync(file, 'r');
    try {
      const n = fs.readSync(fd, into, 0, into.length, at);
      at += n;
      return n;
    } finally {
      fs.closeSync(fd);
      fd = -1;
    }
  };
  try {
    // No larger than the file: thousands of small partition files would otherwise each allocate
    // the whole chunk, and that much memory outside the heap drives the collector.
    const size = reopen ? chunkBytes : fs.fstatSync(fd).size + 1;
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, size));
    // The bytes of a line the last chunk cut, kept as bytes: decoding them alone could split a
    // multi-byte character.
    let carry: Buffer[] = [];
    for (;;) {
      const n = read(chunk);
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
    if (fd >= 0) fs.closeSync(fd);
  }
}
