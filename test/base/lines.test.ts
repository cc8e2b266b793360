/**
 * linesOf: a file's lines across chunk boundaries, held open or reopened for each chunk (the way
 * a merge of thousands of partition files reads, holding no descriptor between chunks).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linesOf } from '../../src/base/lines.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stateproof-lines-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('linesOf', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `${i} ${'é☕x'.repeat(i % 37)}`);
  const file = path.join(dir, 'text.ndjson');
  fs.writeFileSync(file, lines.join('\n') + '\n');

  it('gives every line, whole, with chunks that cut lines and characters, held open or reopened', () => {
    for (const chunk of [7, 64, 1000, 1 << 20]) {
      expect([...linesOf(file, chunk)]).toEqual(lines);
      expect([...linesOf(file, chunk, true)]).toEqual(lines);
    }
  });

  it('reopened, holds no descriptor between chunks, however many files are read side by side', () => {
    const files = Array.from({ length: 200 }, (_, i) => {
      const f = path.join(dir, `f-${i}.ndjson`);
      fs.writeFileSync(f, `a${i}\nb${i}\nc${i}\n`);
      return f;
    });
    const before = openFds();
    const readers = files.map((f) => linesOf(f, 3, true));
    const firsts = readers.map((r) => r.next().value);
    expect(firsts).toEqual(files.map((_, i) => `a${i}`));
    expect(openFds()).toBeLessThan(before + 5);
    // Held open, each suspended reader keeps its file: what reopen is for.
    const held = files.map((f) => linesOf(f, 3));
    held.forEach((r) => r.next());
    expect(openFds()).toBeGreaterThanOrEqual(before + 200);
    held.forEach((r) => r.return(undefined));
    expect(readers.map((r) => [...{ [Symbol.iterator]: () => r }])).toEqual(files.map((_, i) => [`b${i}`, `c${i}`]));
    expect(openFds()).toBeLessThan(before + 5);
  });

  it('reads an empty file as no lines', () => {
    const empty = path.join(dir, 'empty.ndjson');
    fs.writeFileSync(empty, '');
    expect([...linesOf(empty)]).toEqual([]);
    expect([...linesOf(empty, 16, true)]).toEqual([]);
  });
});
