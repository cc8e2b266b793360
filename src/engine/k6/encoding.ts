/** `k6/encoding`: base64 in Go's four alphabets (std, rawstd, url, rawurl), as k6 v1 encodes and decodes. */
import { arrayBufferOf, toBytes } from './bytes.ts';

type Alphabet = 'std' | 'rawstd' | 'url' | 'rawurl';

const STD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9\-_]*$/;

function b64encode(input: unknown, encoding?: Alphabet | string): string {
  const data = toBytes(input, 'b64encode');
  switch (encoding) {
    case 'rawstd':
      return data.toString('base64').replace(/=+$/, '');
    case 'url':
      return data.toString('base64url').padEnd(Math.ceil(data.length / 3) * 4, '=');
    case 'rawurl':
      return data.toString('base64url');
    default:
      return data.toString('base64');
  }
}

/** Go's decoders are strict: wrong alphabet, wrong padding or a stray byte is an error, not a guess. */
function b64decode(input: string, encoding?: Alphabet | string | null, format?: string): ArrayBuffer | string {
  const s = String(input);
  const url = encoding === 'url' || encoding === 'rawurl';
  const padded = !(encoding === 'rawstd' || encoding === 'rawurl');
  const body = padded ? s.replace(/={1,2}$/, '') : s;
  const ok =
    (url ? URL_SAFE : STD).test(body) &&
    body.length % 4 !== 1 &&
    (padded ? s.length % 4 === 0 : !s.includes('='));
  if (!ok) throw new Error(`illegal base64 data at input byte ${firstBad(s, url, padded)}`);
  const out = Buffer.from(body, url ? 'base64url' : 'base64');
  return format === 's' ? out.toString('utf8') : arrayBufferOf(out);
}

function firstBad(s: string, url: boolean, padded: boolean): number {
  const alphabet = url ? URL_SAFE : STD;
  for (let i = 0; i < s.length; i++) {
    if (!alphabet.test(s[i]!) && !(padded && s[i] === '=' && i >= s.length - 2)) return i;
  }
  return s.length;
}

export const encoding = { b64encode, b64decode };
