/**
 * Decoding request bodies with the rules of Go's encoding/json as Toxiproxy uses it: unknown
 * keys are ignored, `null` leaves a field as it was, a wrong JSON type is a 400 that names the
 * field. One deliberate difference: a negative attribute value is refused with 400 (Toxiproxy
 * stores it silently, and it makes no sense for any toxic).
 */
import { apiErrors } from './api-errors.ts';
import type { AttributeKind } from './toxics/toxic.ts';

/**
 * The first JSON value of a request body, as Go's json.NewDecoder(body).Decode reads it: what
 * follows that value is not read, an empty body is "EOF", a truncated one "unexpected EOF", and a
 * syntax error carries encoding/json's own words ("invalid character 'b' looking for beginning of
 * object key string").
 */
export function decodeGoJson(text: string): unknown {
  const scan = new GoJsonScanner(text);
  scan.skipSpace();
  if (scan.atEnd()) throw apiErrors.badRequestBody('EOF');
  let end: number;
  try {
    end = scan.value();
  } catch (e) {
    if (e instanceof GoSyntaxError) throw apiErrors.badRequestBody(e.message);
    throw e;
  }
  // Nesting below CUT_DEPTH is replaced by an empty container of the same kind: nothing here reads
  // that deep (only a value's kind matters there), and JSON.parse recurses where Go does not.
  let json = '';
  let at = scan.start;
  for (const [from, to, empty] of scan.cuts) {
    json += text.slice(at, from) + empty;
    at = to;
  }
  return JSON.parse(json + text.slice(at, end));
}

const CUT_DEPTH = 64;

class GoSyntaxError extends Error {}

/** encoding/json's quoteChar: how its syntax errors show the offending character. */
function quoteChar(c: string): string {
  // Go's scanner works on bytes: a multi-byte character shows as its first byte, read as Latin-1.
  const byte = Buffer.from(c, 'utf8')[0]!;
  if (byte === 0x27) return "'\\''";
  if (byte === 0x22) return `'"'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 92: '\\\\' };
  if (named[byte]) return `'${named[byte]}'`;
  if (byte < 0x20 || byte === 0x7f) return `'\\x${byte.toString(16).padStart(2, '0')}'`;
  if ((byte >= 0x80 && byte < 0xa0) || byte === 0xad) return `'\\u00${byte.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(byte)}'`;
}

/** encoding/json's maxNestingDepth. */
const MAX_DEPTH = 10_000;

/** One value, walked with the messages of Go's scanner (scanner.go); iterative, as nesting may be deep. */
class GoJsonScanner {
  private i = 0;
  start = 0;
  /** Containers opened at CUT_DEPTH: [start, end, "[]" or "{}"]. */
  readonly cuts: Array<[number, number, string]> = [];
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  skipSpace(): void {
    this.ws();
    this.start = this.i;
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i]!)) this.i++;
  }

  private peek(): string {
    if (this.i >= this.s.length) throw new GoSyntaxError('unexpected EOF');
    return this.s[this.i]!;
  }

  private fail(context: string): never {
    throw new GoSyntaxError(`invalid character ${quoteChar(String.fromCodePoint(this.s.codePointAt(this.i)!))} ${context}`);
  }

  /** Scans one value starting at the cursor; returns the index just past it. */
  value(): number {
    const open: string[] = [];
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '{' || c === '[') {
        if (open.length >= MAX_DEPTH) this.fail('exceeded max depth');
        if (open.length === CUT_DEPTH) this.cuts.push([this.i, -1, c === '{' ? '{}' : '[]']);
        open.push(c);
        this.i++;
        this.ws();
        if (this.peek() === (c === '{' ? '}' : ']')) {
          this.i++;
          this.close(open);
        } else {
          if (c === '{') this.key();
          continue;
        }
      } else if (c === '"') this.string();
      else if (c === '-' || (c >= '0' && c <= '9')) this.number();
      else if (c === 't') this.literal('true');
      else if (c === 'f') this.literal('false');
      else if (c === 'n') this.literal('null');
      else this.fail('looking for beginning of value');
      // A value ended: close what it ends, or move to the next element or key.
      for (;;) {
        if (open.length === 0) return this.i;
        this.ws();
        const next = this.peek();
        const inObject = open[open.length - 1] === '{';
        if (next === (inObject ? '}' : ']')) {
          this.i++;
          this.close(open);
          continue;
        }
        if (next !== ',') this.fail(inObject ? 'after object key:value pair' : 'after array element');
        this.i++;
        if (inObject) {
          this.ws();
          this.key();
        }
        break;
      }
    }
  }

  private close(open: string[]): void {
    open.pop();
    if (open.length === CUT_DEPTH) this.cuts[this.cuts.length - 1]![1] = this.i;
  }

  /** `"key"` and its colon; the cursor is left where the value starts. */
  private key(): void {
    if (this.peek() !== '"') this.fail('looking for beginning of object key string');
    this.string();
    this.ws();
    if (this.peek() !== ':') this.fail('after object key');
    this.i++;
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        this.i++;
        const e = this.peek();
        if (e === 'u') {
          this.i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(this.peek())) this.fail('in \\u hexadecimal character escape');
            this.i++;
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) this.fail('in string escape code');
        this.i++;
        continue;
      }
      if (c < ' ') this.fail('in string literal');
      this.i++;
    }
  }

  private digits(context: string): void {
    if (!/[0-9]/.test(this.peek())) this.fail(context);
    while (this.i < this.s.length && /[0-9]/.test(this.s[this.i]!)) this.i++;
  }

  /** A number ends at the first character that cannot continue it; "01" is the number 0 (Go reads no further). */
  private number(): void {
    if (this.s[this.i] === '-') this.i++;
    const c = this.peek();
    if (c === '0') this.i++;
    else if (c >= '1' && c <= '9') this.digits('in numeric literal');
    else this.fail('in numeric literal');
    if (this.s[this.i] === '.') {
      this.i++;
      this.digits('after decimal point in numeric literal');
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.s[this.i] === '+' || this.s[this.i] === '-') this.i++;
      this.digits('in exponent of numeric literal');
    }
  }

  private literal(word: string): void {
    this.i++;
    for (let k = 1; k < word.length; k++) {
      if (this.peek() !== word[k]) this.fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
      this.i++;
    }
  }
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : (typeof v as string);
}

/** The body must be a JSON object (or null, which Go decodes as "nothing"). */
export function asObject(v: unknown, goType: string): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`);
  return v as Record<string, unknown>;
}

type FieldKind = 'string' | 'bool' | 'number';

/** Field `key` of `obj` if present and not null, checked against its Go type. */
export function field<T>(obj: Record<string, unknown>, key: string, kind: FieldKind, goStruct: string): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const ok = kind === 'string' ? typeof v === 'string' : kind === 'bool' ? typeof v === 'boolean' : typeof v === 'number';
  if (!ok) {
    const goType = kind === 'number' ? 'float32' : kind;
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goStruct}.${key} of type ${goType}`);
  }
  return v as T;
}

/** Merge `attributes` from a body into `current`, validating each known attribute. */
export function mergeAttributes(
  current: Record<string, number>,
  raw: unknown,
  kinds: Record<string, AttributeKind>,
  goName: string,
): Record<string, number> {
  const next = { ...current };
  if (raw === undefined || raw === null) return next;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(raw)} into Go struct field ToxicWrapper.attributes of type toxics.${goName}`);
  }
  for (const [key, kind] of Object.entries(kinds)) {
    const v = (raw as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') {
      throw apiErrors.badRequestBody(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${goName}.attributes.${key} of type ${kind}`);
    }
    if (!Number.isSafeInteger(v)) {
      throw apiErrors.badRequestBody(`json: cannot unmarshal number ${v} into Go struct field ${goName}.attributes.${key} of type ${kind}`);
    }
    if (v < 0) throw apiErrors.badRequestBody(`attribute ${key} must not be negative, got ${v}`);
    next[key] = v;
  }
  return next;
}
