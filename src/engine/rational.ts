/**
 * Exact rational numbers on bigint, the subset of Go's math/big.Rat that k6's execution segments
 * use. Segments are fractions such as 1/3 whose sums must come out exactly 1: floats cannot.
 * Values are kept reduced with a positive denominator, as big.Rat keeps them, so `num`/`den`
 * read like Rat.Num()/Rat.Denom().
 */
export class Rat {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint = 1n) {
    if (den === 0n) throw new RangeError('Rat: zero denominator');
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const g = gcd(num < 0n ? -num : num, den);
    this.num = g > 1n ? num / g : num;
    this.den = g > 1n ? den / g : den;
  }

  static of(num: number | bigint, den: number | bigint = 1n): Rat {
    return new Rat(BigInt(num), BigInt(den));
  }

  add(o: Rat): Rat {
    return new Rat(this.num * o.den + o.num * this.den, this.den * o.den);
  }

  sub(o: Rat): Rat {
    return new Rat(this.num * o.den - o.num * this.den, this.den * o.den);
  }

  mul(o: Rat): Rat {
    return new Rat(this.num * o.num, this.den * o.den);
  }

  cmp(o: Rat): -1 | 0 | 1 {
    const a = this.num * o.den;
    const b = o.num * this.den;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** big.Rat.RatString: "a/b", or "a" when the denominator is 1. */
  toString(): string {
    return this.den === 1n ? this.num.toString() : `${this.num}/${this.den}`;
  }

  /** big.Rat.FloatString(digits): rounded half away from zero, as Go rounds it. */
  floatString(digits: number): string {
    const scale = 10n ** BigInt(digits);
    const neg = this.num < 0n;
    const n = neg ? -this.num : this.num;
    let q = (n * scale) / this.den;
    const r = (n * scale) % this.den;
    if (r * 2n >= this.den) q += 1n;
    const whole = q / scale;
    const frac = (q % scale).toString().padStart(digits, '0');
    return `${neg && q !== 0n ? '-' : ''}${whole}${digits > 0 ? `.${frac}` : ''}`;
  }

  toNumber(): number {
    return Number(this.num) / Number(this.den);
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

const FRACTION = /^([+-]?\d+)\/(\d+)$/;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * big.Rat.SetString for the forms k6's users write: "a/b" and decimals ("0.25", "1e-1").
 * Undefined where Go's parser would fail (a zero denominator, no digits, anything else).
 */
export function parseRat(s: string): Rat | undefined {
  const f = FRACTION.exec(s);
  if (f) return BigInt(f[2]!) === 0n ? undefined : new Rat(BigInt(f[1]!), BigInt(f[2]!));
  const d = DECIMAL.exec(s);
  if (!d) return undefined;
  const [, sign, int = '', frac = '', exp] = d;
  if (int === '' && frac === '') return undefined;
  let num = BigInt(`${int}${frac}` || '0');
  let den = 10n ** BigInt(frac.length);
  const e = exp === undefined ? 0 : Number(exp);
  if (Math.abs(e) > 10_000) return undefined;
  if (e > 0) num *= 10n ** BigInt(e);
  else if (e < 0) den *= 10n ** BigInt(-e);
  return new Rat(sign === '-' ? -num : num, den);
}
