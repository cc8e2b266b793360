/**
 * k6 duration strings ("1m30s", "500ms", "2h", "1.5s") and bare numbers (milliseconds, as k6 takes
 * them in options) to milliseconds.
 *
 * k6 reads durations two ways and so does this file: a script's options go through
 * types.ParseExtendedDuration (a bare number is milliseconds, "d" is days), while the --duration
 * flag is a Go duration (pflag DurationP → time.ParseDuration): a unit is required, "d" is unknown,
 * so `k6 run --duration 10` is refused rather than run for 10 ms.
 */
import { UsageError } from '../base/errors.ts';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

export function parseDurationMs(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UsageError(`${field}: expected a duration like "30s" or "1m30s", got ${JSON.stringify(value)}`);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text); // k6 (types.ParseExtendedDuration): no unit means milliseconds
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) {
      throw new UsageError(`${field}: "${value}" is not a duration (use units ms, s, m, h, e.g. "1m30s")`);
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m}m${rest}s` : `${m}m0s`;
}

const FLAG_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** A --duration flag as k6's command line reads it (Go's time.ParseDuration), in milliseconds. */
export function parseFlagDurationMs(value: string, flag: string): number {
  const text = value.trim();
  if (text === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new UsageError(`${flag} "${value}" has no unit: write ${text}s (or ${text}ms, ${text}m). k6 refuses a unitless ${flag} too (a Go duration needs a unit).`);
  }
  let total = 0;
  FLAG_PART.lastIndex = 0;
  while (FLAG_PART.lastIndex < text.length) {
    const at = FLAG_PART.lastIndex;
    const m = FLAG_PART.exec(text);
    if (!m || m.index !== at) {
      const hint = /\d+d/.test(text) ? ' (days are not a unit here, as in k6: write 24h)' : '';
      throw new UsageError(`${flag} "${value}" is not a duration${hint}; use ns, us, ms, s, m, h, e.g. 30s or 1m30s.`);
    }
    total += Number(m[1]) * UNIT_MS[m[2] === 'μs' ? 'µs' : m[2]!]!;
  }
  return total;
}
