/** `stateproof capacity <run-dir>`: project session memory from a long-session run. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { DEFAULT_PROJECTION_SESSIONS, memoryBreakdown, projectCapacity, projectionTtl, provisionAdvice } from '../../report/capacity.ts';
import { fmtBytes, fmtInt } from '../../report/format.ts';
import { loadRun } from '../../report/load.ts';
import type { Capacity } from '../../report/result-schema.ts';
import { textTable } from '../../report/text-table.ts';
import { writeReports } from '../../report/write.ts';

export const help = `Usage: stateproof capacity <run-dir> [--sessions N]... [--sessions-per-hour R --ttl-seconds T]
                           [--window-turns N] [--no-write]

From a long-session run's measured state bytes per session (p50/p99/max), Redis used_memory per
session and MEMORY USAGE by key kind (state, turn-id index, other keys, and what no key accounts
for), projects the memory N live sessions need and how many sessions fit in 1 GiB. Provision by
Redis used_memory, not payload: the turn-id index and Redis's own overhead are most of it.
Prints a table and writes the projection into the run's result.json and reports.

Options:
  --sessions <n>           live sessions to project to (repeatable; default ${DEFAULT_PROJECTION_SESSIONS.join(', ')})
  --sessions-per-hour <r>  new sessions per hour; with the TTL gives live sessions = r × ttl / 3600
  --ttl-seconds <n>        the TTL your sessions live with in production; needed with --sessions-per-hour
                           unless the run recorded a TTL the backend declares (the scenario's own
                           test TTL, seconds long, is never used). The TTL used is printed.
  --window-turns <n>       project to a different rolling window (bytes scale with the window; stated as an assumption)
  --no-write               print only; leave result.json and the reports as they are

Examples:
  stateproof capacity reports/<long-session-run> --sessions 50000 --sessions 2000000
  stateproof capacity reports/<long-session-run> --sessions-per-hour 120000 --ttl-seconds 3600 --window-turns 20
`;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${v}'.`);
  return n;
}

export function capacityText(c: Capacity, ttlLine?: string): string {
  const m = c.measured;
  const out: string[] = [];
  out.push(
    `Measured over ${fmtInt(m.sessions)} sessions: state bytes/session p50 ${fmtBytes(m.bytesPerSession.p50)}, p99 ${fmtBytes(m.bytesPerSession.p99)}, max ${fmtBytes(m.bytesPerSession.max)}; ` +
      `Redis used_memory/session ${fmtBytes(m.usedMemoryPerSessionBytes)}.`,
    '',
  );
  const parts = memoryBreakdown(c);
  if (parts) {
    out.push('Where used_memory goes, per session (MEMORY USAGE by key kind at the end of the run):');
    const sampled = (m.keyMemory ?? []).map((k) => `${k.kind} ${fmtInt(k.sampledKeys)} of ${fmtInt(k.keys)}`).join(', ');
    out.push(
      textTable(
        ['Key kind', 'Keys #', 'Per session #', 'Share of used_memory #'],
        parts.map((p) => [p.kind, p.keys === null ? '' : fmtInt(p.keys), fmtBytes(p.perSessionBytes), p.share === null ? '' : `${(p.share * 100).toFixed(1)}%`]),
      ) + `(keys measured: ${sampled})`,
      '',
    );
  } else {
    out.push('No MEMORY USAGE breakdown in this run (an older run, or a Redis that refuses MEMORY USAGE).', '');
  }
  // The advice is one of the projection's assumptions (it lands in the reports too); here it goes
  // beside the breakdown it follows from.
  const isAdvice = (a: string) => a.startsWith('Provision by');
  out.push(c.assumptions.find(isAdvice) ?? provisionAdvice(c), '');
  if (ttlLine) out.push(ttlLine, '');
  out.push(
    textTable(
      ['Live sessions #', 'Payload p50 #', 'Payload p99 #', 'Payload max #', 'Redis used_memory #'],
      c.projections.map((p) => [fmtInt(p.sessions), fmtBytes(p.payloadP50Bytes), fmtBytes(p.payloadP99Bytes), fmtBytes(p.payloadMaxBytes), fmtBytes(p.redisBytes)]),
    ).trimEnd(),
  );
  if (c.sessionsPerGiB) out.push('', `Sessions per GiB: ${fmtInt(c.sessionsPerGiB.byRedisUsedMemory)} by Redis used_memory (provision by this), ${fmtInt(c.sessionsPerGiB.byPayloadP99)} by payload p99.`);
  return out.join('\n') + '\n' + c.assumptions.filter((a) => !isAdvice(a)).map((a) => `- ${a}\n`).join('');
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
  const ttlGiven = values['ttl-seconds'] === undefined ? undefined : positive('ttl-seconds', values['ttl-seconds']);
  const ttl = projectionTtl(result.capacity, ttlGiven);
  if (perHour !== undefined && ttl === null) {
    const runTtl = result.capacity.settings.ttlSeconds;
    throw new UsageError(
      `--sessions-per-hour needs --ttl-seconds N, the TTL your sessions live with in production` +
        `${runTtl !== null ? ` (this run's ${runTtl} s TTL is the scenario's test setting, not a production one)` : ''}. Example: --ttl-seconds 3600`,
    );
  }
  const projected = projectCapacity(result.capacity, {
    sessions: (values.sessions ?? []).map((s) => positive('sessions', s)),
    ...(perHour !== undefined ? { sessionsPerHour: perHour } : {}),
    ...(values['window-turns'] !== undefined ? { windowTurns: Math.round(positive('window-turns', values['window-turns'])) } : {}),
    ...(ttlGiven !== undefined ? { ttlSeconds: ttlGiven } : {}),
  });
  const ttlLine = perHour !== undefined && ttl ? `TTL used: ${fmtInt(ttl.seconds)} s (${ttl.source}).` : undefined;
  process.stdout.write(capacityText(projected, ttlLine));
  if (!values['no-write']) {
    await writeReports({ ...result, capacity: projected }, dir);
    process.stdout.write(`\nWrote the projection into ${path.join(dir, 'result.json')} and re-rendered the reports.\n`);
  }
  return 0;
}
