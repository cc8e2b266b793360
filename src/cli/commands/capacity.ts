/** `stateproof capacity <run-dir>`: project session memory from a long-session run. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { DEFAULT_PROJECTION_SESSIONS, projectCapacity } from '../../report/capacity.ts';
import { fmtBytes, fmtInt } from '../../report/format.ts';
import { loadRun } from '../../report/load.ts';
import type { Capacity } from '../../report/result-schema.ts';
import { textTable } from '../../report/text-table.ts';
import { writeReports } from '../../report/write.ts';

export const help = `Usage: stateproof capacity <run-dir> [--sessions N]... [--sessions-per-hour R]
                           [--window-turns N] [--ttl-seconds N] [--no-write]

From a long-session run's measured state bytes per session (p50/p99/max) and Redis used_memory
per session, projects the memory N live sessions need and how many sessions fit in 1 GiB.
Prints a table and writes the projection into the run's result.json and reports.

Options:
  --sessions <n>           live sessions to project to (repeatable; default ${DEFAULT_PROJECTION_SESSIONS.join(', ')})
  --sessions-per-hour <r>  new sessions per hour; with the TTL gives live sessions = r × ttl / 3600
  --window-turns <n>       project to a different rolling window (bytes scale with the window; stated as an assumption)
  --ttl-seconds <n>        TTL to use with --sessions-per-hour (default: the run's)
  --no-write               print only; leave result.json and the reports as they are

Examples:
  stateproof capacity reports/long-session-20250115 --sessions 50000 --sessions 2000000
  stateproof capacity reports/long-session-20250115 --sessions-per-hour 120000 --ttl-seconds 3600 --window-turns 20
`;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${v}'.`);
  return n;
}

export function capacityText(c: Capacity): string {
  const m = c.measured;
  const head =
    `Measured over ${fmtInt(m.sessions)} sessions: state bytes/session p50 ${fmtBytes(m.bytesPerSession.p50)}, p99 ${fmtBytes(m.bytesPerSession.p99)}, max ${fmtBytes(m.bytesPerSession.max)}; ` +
    `Redis used_memory/session ${fmtBytes(m.usedMemoryPerSessionBytes)}.\n\n`;
  const table = textTable(
    ['Live sessions #', 'Payload p50 #', 'Payload p99 #', 'Payload max #', 'Redis used_memory #'],
    c.projections.map((p) => [fmtInt(p.sessions), fmtBytes(p.payloadP50Bytes), fmtBytes(p.payloadP99Bytes), fmtBytes(p.payloadMaxBytes), fmtBytes(p.redisBytes)]),
  );
  const perGiB = c.sessionsPerGiB
    ? `\nSessions per GiB: ${fmtInt(c.sessionsPerGiB.byRedisUsedMemory)} by Redis used_memory, ${fmtInt(c.sessionsPerGiB.byPayloadP99)} by payload p99.\n`
    : '';
  return head + table + perGiB + c.assumptions.map((a) => `- ${a}\n`).join('');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      sessions: { type: 'string', multiple: true },
      'sessions-per-hour': { type: 'string' },
      'window-turns': { type: 'string' },
      'ttl-seconds': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one run directory, got ${positionals.length}. Usage: stateproof capacity <run-dir> [--sessions N]`);
  const { dir, result } = await loadRun(positionals[0]!);
  if (!result.capacity) {
    throw new UsageError(`run ${result.runId} (${result.scenario.name}) has no capacity measurements. Run the long-session scenario first: stateproof run long-session.`);
  }
  const perHour = values['sessions-per-hour'] === undefined ? undefined : positive('sessions-per-hour', values['sessions-per-hour']);
  const ttl = values['ttl-seconds'] === undefined ? undefined : positive('ttl-seconds', values['ttl-seconds']);
  if (perHour !== undefined && ttl === undefined && result.capacity.settings.ttlSeconds === null) {
    throw new UsageError('--sessions-per-hour needs a TTL and the run did not record one: add --ttl-seconds N.');
  }
  const projected = projectCapacity(result.capacity, {
    sessions: (values.sessions ?? []).map((s) => positive('sessions', s)),
    ...(perHour !== undefined ? { sessionsPerHour: perHour } : {}),
    ...(values['window-turns'] !== undefined ? { windowTurns: Math.round(positive('window-turns', values['window-turns'])) } : {}),
    ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
  });
  process.stdout.write(capacityText(projected));
  if (!values['no-write']) {
    await writeReports({ ...result, capacity: projected }, dir);
    process.stdout.write(`\nWrote the projection into ${path.join(dir, 'result.json')} and re-rendered the reports.\n`);
  }
  return 0;
}
