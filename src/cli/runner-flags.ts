/**
 * --runners N and --sink-listen HOST:PORT, with the sink token from STATEPROOF_SINK_TOKEN when the
 * user shares one with runners elsewhere ahead of the run (otherwise each run makes its own).
 */
import { UsageError } from '../base/errors.ts';
import { MAX_LOCAL_RUNNERS } from '../engine/runners/run-with-runners.ts';
import { SINK_ENV } from '../record/sink-protocol.ts';
import { parseIntFlag } from './config.ts';

export const runnerFlags = {
  runners: { type: 'string' },
  'sink-listen': { type: 'string' },
} as const;

export const RUNNER_FLAGS_HELP = `  --runners <n>           split the load across n engine processes, each on its execution segment
                          i/n:(i+1)/n (as k6-operator's parallelism: n); with --engine k6, n real k6
                          processes. All record into this run; the report lists what each did
  --sink-listen <h:p>     where the history sink listens (default 127.0.0.1, an ephemeral port); e.g.
                          0.0.0.0:7070 serves runners on other machines. It prints the URL and the
                          run's bearer token they need (${SINK_ENV.url}, ${SINK_ENV.token});
                          set ${SINK_ENV.token} yourself to choose it`;

export interface RunnerSettings {
  runners?: number;
  sinkListen?: { host: string; port: number };
  sinkToken?: string;
}

export function runnerSettingsFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): RunnerSettings {
  const out: RunnerSettings = {};
  const runners = values.runners as string | undefined;
  if (runners !== undefined) out.runners = parseIntFlag(runners.trim(), '--runners', 1, MAX_LOCAL_RUNNERS);
  const listen = values['sink-listen'] as string | undefined;
  if (listen !== undefined) out.sinkListen = parseListen(listen);
  const token = env[SINK_ENV.token];
  if (token !== undefined && token !== '') {
    if (!/^[\x21-\x7e]{16,512}$/.test(token)) throw new UsageError(`${SINK_ENV.token} must be 16 to 512 printable characters without spaces (it travels as a bearer token); got ${token.length} characters`);
    out.sinkToken = token;
  }
  return out;
}

/** HOST:PORT, [IPv6]:PORT or :PORT (all interfaces). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) throw new UsageError(`--sink-listen must be HOST:PORT (e.g. 0.0.0.0:7070, 127.0.0.1:0, [::]:7070); got '${s}'`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
