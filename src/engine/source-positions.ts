/**
 * Script positions as the user wrote them. The built-in engine runs an esbuild bundle through
 * vm.compileFunction, where Node applies no source maps (not even with --enable-source-maps), so a
 * stack names the bundle's lines under the script's file name: `throwit.ts:27:9` for a 6-line
 * file. Each compiled bundle registers its inline map here, and stacks are rewritten frame by frame
 * before they are printed.
 */
import path from 'node:path';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Registered {
  map: SourceMap;
  /** Where the map's relative `sources` are rooted (esbuild writes them relative to its working directory). */
  baseDir: string;
}

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

// Keyed by the file name the bundle is compiled under; a later bundle of the same script replaces it.
const registry = new Map<string, Registered>();

/** Remembers `code`'s inline source map for frames that name `filename`; a bundle without one is ignored. */
export function registerBundle(filename: string, code: string, baseDir = process.cwd()): void {
  const m = INLINE_MAP.exec(code);
  if (!m) return;
  try {
    registry.set(filename, { map: new SourceMap(JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'))), baseDir });
  } catch {
    /* an unreadable map leaves positions as they are: wrong lines beat a crash while reporting an error */
  }
}

/** The original position of a 1-based line and column of a registered bundle, if the map knows it. */
export function originalPosition(filename: string, line: number, column: number): { file: string; line: number; column: number } | undefined {
  const r = registry.get(filename);
  if (!r) return undefined;
  const e = r.map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (e.originalSource === undefined || e.originalLine === undefined || e.originalColumn === undefined) return undefined;
  const src = e.originalSource;
  const file = src.startsWith('file://') ? fileURLToPath(src) : path.isAbsolute(src) ? src : path.resolve(r.baseDir, src);
  return { file, line: e.originalLine + 1, column: e.originalColumn + 1 };
}

const FRAME = /^(\s*at .*?)(\(?)([^()\s]+):(\d+):(\d+)(\)?)$/;

/**
 * A stack as the user should read it: the message, then the script's own frames at their original
 * positions. The harness's frames (the engine that called the script) are left out, as k6 leaves
 * out its Go frames; if no frame is the script's, the stack is returned as it was, mapped.
 */
export function scriptStack(stack: string, maxFrames = 4): string {
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((l) => FRAME.test(l));
  if (firstFrame < 0) return stack;
  const head = lines.slice(0, firstFrame);
  const mapped: string[] = [];
  const all: string[] = [];
  for (const l of lines.slice(firstFrame)) {
    const m = FRAME.exec(l);
    const pos = m && registry.has(m[3]!) ? originalPosition(m[3]!, Number(m[4]), Number(m[5])) : undefined;
    const text = pos ? `${m![1]}${m![2]}${pos.file}:${pos.line}:${pos.column}${m![6]}` : l;
    all.push(text);
    if (m && registry.has(m[3]!)) mapped.push(text);
  }
  return [...head, ...(mapped.length ? mapped : all).slice(0, maxFrames)].join('\n');
}

/** "file:line:column" of the innermost script frame of an error, for one-line messages. */
export function scriptLocation(e: unknown): string | undefined {
  const stack = e instanceof Error ? e.stack : undefined;
  if (!stack) return undefined;
  for (const l of stack.split('\n')) {
    const m = FRAME.exec(l);
    if (!m || !registry.has(m[3]!)) continue;
    const pos = originalPosition(m[3]!, Number(m[4]), Number(m[5]));
    if (pos) return `${pos.file}:${pos.line}:${pos.column}`;
  }
  return undefined;
}
