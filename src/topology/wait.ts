/**
 * Readiness as named wait strategies (the testcontainers model): a log line, an HTTP probe, or
 * both in order. Each has a default timeout, and a timeout error says what was awaited, for how
 * long, and what the process last printed.
 */
import http from 'node:http';
import { systemClock, type Clock } from '../base/clock.ts';
import { EnvironmentError } from '../base/errors.ts';

export const WAIT_DEFAULTS = {
  timeoutMs: 20_000,
  httpIntervalMs: 100,
  httpRequestTimeoutMs: 1_000,
} as const;

/** What a process exposes to a wait strategy while it starts. */
export interface WaitTarget {
  readonly name: string;
  /** Calls `listener` for every line printed so far and every later line, until the returned unsubscribe. */
  onLine(listener: (line: string, stream: 'stdout' | 'stderr') => void): () => void;
  /** Resolves when the process exits (readiness can then never come). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logTail(): string;
}

/** What readiness found, e.g. the log line's match (the service prints its URL there). */
export interface WaitResult {
  match?: RegExpMatchArray;
}

export interface WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;
  wait(target: WaitTarget, ctx: { clock: Clock; previous: WaitResult; deadline: number }): Promise<WaitResult>;
}

export class ReadinessError extends EnvironmentError {}

function timeoutError(target: WaitTarget, what: string, ms: number): ReadinessError {
  return new ReadinessError(`${target.name} was not ready: waited ${ms} ms for ${what}. Its last output:\n${target.logTail() || '(nothing)'}`);
}

function exitError(target: WaitTarget, what: string, exit: { code: number | null; signal: NodeJS.Signals | null }): ReadinessError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return new ReadinessError(`${target.name} ${how} while waiting for ${what}. Its last output:\n${target.logTail() || '(nothing)'}`);
}

export const Wait = {
  forLogLine(pattern: RegExp, opts: { stream?: 'stdout' | 'stderr' | 'any'; timeoutMs?: number } = {}): WaitStrategy {
    const stream = opts.stream ?? 'any';
    const description = `a log line matching ${pattern} on ${stream === 'any' ? 'stdout or stderr' : stream}`;
    return {
      description,
      timeoutMs: opts.timeoutMs ?? WAIT_DEFAULTS.timeoutMs,
      async wait(target, { clock, deadline }) {
        const abort = new AbortController();
        let unsubscribe = () => {};
        try {
          return await Promise.race([
            new Promise<WaitResult>((resolve) => {
              unsubscribe = target.onLine((line, s) => {
                if (stream !== 'any' && s !== stream) return;
                const match = line.match(pattern);
                if (match) resolve({ match });
              });
            }),
            target.exited.then((exit) => Promise.reject(exitError(target, description, exit))),
            clock.sleep(Math.max(0, deadline - clock.now()), abort.signal).then(() => Promise.reject(timeoutError(target, description, this.timeoutMs))),
          ]);
        } finally {
          unsubscribe();
          abort.abort();
        }
      },
    };
  },

  /** Polls GET `url` until it answers `status` (default any 2xx). `url` may be built from the previous strategy's result. */
  forHttp(url: string | ((previous: WaitResult) => string), opts: { status?: number; timeoutMs?: number; intervalMs?: number } = {}): WaitStrategy {
    const label = typeof url === 'string' ? url : 'the announced URL';
    const description = `GET ${label} to answer ${opts.status ?? '2xx'}`;
    return {
      description,
      timeoutMs: opts.timeoutMs ?? WAIT_DEFAULTS.timeoutMs,
      async wait(target, { clock, previous, deadline }) {
        const href = typeof url === 'string' ? url : url(previous);
        let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
        void target.exited.then((e) => (exit = e));
        let last = 'no answer yet';
        while (clock.now() < deadline) {
          if (exit) throw exitError(target, `GET ${href}`, exit);
          const status = await getStatus(href, WAIT_DEFAULTS.httpRequestTimeoutMs).catch((e: Error) => {
            last = e.message;
            return 0;
          });
          if (status) last = `status ${status}`;
          if (opts.status === undefined ? status >= 200 && status < 300 : status === opts.status) return previous;
          await clock.sleep(opts.intervalMs ?? WAIT_DEFAULTS.httpIntervalMs);
        }
        throw timeoutError(target, `GET ${href} to answer ${opts.status ?? '2xx'} (last: ${last})`, this.timeoutMs);
      },
    };
  },

  /** Each strategy in order, within the sum of their timeouts; results are merged. */
  all(...strategies: WaitStrategy[]): WaitStrategy {
    return {
      description: strategies.map((s) => s.description).join(', then '),
      timeoutMs: strategies.reduce((sum, s) => sum + s.timeoutMs, 0),
      async wait(target, { clock, previous }) {
        let result = previous;
        for (const s of strategies) {
          result = { ...result, ...(await s.wait(target, { clock, previous: result, deadline: clock.now() + s.timeoutMs })) };
        }
        return result;
      },
    };
  },
};

function getStatus(href: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(href, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

export async function waitUntilReady(target: WaitTarget, strategy: WaitStrategy, clock: Clock = systemClock): Promise<WaitResult> {
  return strategy.wait(target, { clock, previous: {}, deadline: clock.now() + strategy.timeoutMs });
}
