/**
 * Where history entries end up: a recorder that numbers them in arrival order, and the HTTP sink
 * that runners POST their batches to — real k6's VUs (scenarios/lib/history.ts), the built-in
 * engine's runner processes (src/record/sink-client.ts), and runners on other machines when it
 * listens beyond loopback (--sink-listen). Under the built-in engine in one process the same
 * recorder is handed to runScript({ history }) and fed in-process.
 *
 *   runner ──POST /runs/<run>/history [entries]──> token? run? size? shape? batch id new?
 *                                                    │ no: 401/404/413/400 counted, 200 duplicate
 *                                                    ▼ yes
 *                                     recorder.record(entry) ──> entries[] with ids; ledger
 *
 * Trust (./sink-protocol.ts): a per-run bearer token, bounded batches, entries checked field by
 * field before any checker sees them, and per-runner batch ids so a retried batch is applied once.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError } from '../base/errors.ts';
import type { HistoryEntry } from './history.ts';
import { SinkLedger, type RunnerRecord, type SinkStats } from './sink-ledger.ts';
import { entryProblem, ID_PATTERN, parseSinkPath, SINK_ENV, SINK_HEADERS, SINK_LIMITS, type Rejection } from './sink-protocol.ts';

export type { RunnerRecord, SinkStats } from './sink-ledger.ts';

export interface HistoryRecorderLike {
  record(entry: Omit<HistoryEntry, 'id'>): void;
}

export class HistoryRecorder implements HistoryRecorderLike {
  readonly entries: HistoryEntry[] = [];
  private nextId = 1;
  /** Takes ownership of `entry`: the id is added in place (no copy per operation). */
  record(entry: Omit<HistoryEntry, 'id'>): void {
    const e = entry as HistoryEntry;
    e.id = this.nextId++;
    this.entries.push(e);
  }
}

export interface SinkOptions {
  /** Default 127.0.0.1: only this machine's runners. 0.0.0.0 (or an interface's address) serves others. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** The run's bearer token; default 32 random bytes (hex). */
  token?: string;
  /** The run the sink accepts batches for; default random. */
  runId?: string;
  maxBatchEntries?: number;
  maxBatchBytes?: number;
  /**
   * Checks a runner's final metrics (POST …/metrics); returns why they are unusable, or undefined.
   * Without it, any JSON object is kept.
   */
  checkMetrics?: (payload: unknown) => string | undefined;
  /** Epoch ms, for the runners' batch times. */
  now?: () => number;
}

export interface HistorySinkServer {
  /** POST a JSON array of entries here (STATEPROOF_HISTORY_URL). */
  url: string;
  /** POST a runner's final metrics here. */
  metricsUrl: string;
  token: string;
  runId: string;
  /** Where it listens, as host:port. */
  listen: string;
  /** What a runner needs in its environment (URL and token; the runner id is the runner's own). */
  runnerEnv(): Record<string, string>;
  /** Entries received so far. */
  readonly received: number;
  /** Requests refused, all reasons. */
  readonly rejected: number;
  stats(): SinkStats;
  runners(): RunnerRecord[];
  /** Makes a runner known before it sends anything, so one that never sends is still reported. */
  expectRunner(id: string): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startHistorySink(recorder: HistoryRecorderLike, opts: SinkOptions = {}): Promise<HistorySinkServer> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  const runId = opts.runId ?? `run-${randomBytes(6).toString('hex')}`;
  const maxEntries = opts.maxBatchEntries ?? SINK_LIMITS.maxBatchEntries;
  const maxBytes = opts.maxBatchBytes ?? SINK_LIMITS.maxBatchBytes;
  const now = opts.now ?? Date.now;
  const ledger = new SinkLedger(SINK_LIMITS.maxRunners);
  const expected = Buffer.from(`Bearer ${token}`);

  const refuse = (res: http.ServerResponse, status: number, reason: Rejection | undefined, message: string, entries = 0) => {
    if (reason) ledger.rejected(reason, entries);
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(message + '\n');
  };

  const server = http.createServer((req, res) => {
    req.on('error', () => res.destroy());
    const target = parseSinkPath(req.url ?? '');
    if (!target) return refuse(res, 404, undefined, 'not a sink path: POST /runs/<run id>/history or /runs/<run id>/metrics');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(res, 405, undefined, 'the sink takes POST only');
    }
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return refuse(res, 401, 'unauthorized', `missing or wrong bearer token: send Authorization: Bearer <the run's ${SINK_ENV.token}>`);
    }
    if (target.runId !== runId) return refuse(res, 404, 'unknown-run', `no run '${target.runId.slice(0, 200)}' here: this sink records run '${runId}' (a runner left over from another run?)`);
    const runner = header(req, SINK_HEADERS.runner);
    const batch = header(req, SINK_HEADERS.batch);
    if (!runner || !ID_PATTERN.test(runner) || !batch || !ID_PATTERN.test(batch)) {
      return refuse(res, 400, 'malformed', `${SINK_HEADERS.runner} and ${SINK_HEADERS.batch} must each be 1-128 characters of A-Z a-z 0-9 . _ : - (a retried batch keeps its id)`);
    }
    if (!ledger.admits(runner)) return refuse(res, 429, 'too-many-runners', `this run already has ${SINK_LIMITS.maxRunners} runners; runner '${runner}' is refused`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(req, res, maxBytes, refuse);

    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        tooLarge(req, res, maxBytes, refuse);
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return refuse(res, 400, 'malformed', target.kind === 'history' ? 'body must be a JSON array of history entries' : 'body must be a JSON object (the runner\'s final metrics)');
      }
      const at = now();
      if (ledger.isDuplicate(runner, batch)) {
        ledger.duplicate(runner, at);
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`duplicate batch ${runner}/${batch}: already applied, not applied again\n`);
        return;
      }
      if (target.kind === 'metrics') {
        const problem = !body || typeof body !== 'object' || Array.isArray(body) ? 'body must be a JSON object' : opts.checkMetrics?.(body);
        if (problem) return refuse(res, 400, 'malformed', `runner '${runner}' metrics refused: ${problem}`);
        ledger.done(runner, batch, body, at);
        res.writeHead(204).end();
        return;
      }
      const list = Array.isArray(body) ? body : [body];
      if (list.length > maxEntries) {
        return refuse(res, 413, 'too-large', `batch of ${list.length} entries exceeds the sink's limit of ${maxEntries}: send at most ${maxEntries} per POST`, list.length);
      }
      for (let i = 0; i < list.length; i++) {
        const problem = entryProblem(list[i]);
        if (problem) return refuse(res, 400, 'malformed', `entry ${i} of batch ${runner}/${batch}: ${problem}; the batch was not applied`, list.length);
      }
      for (const e of list) recorder.record(e as Omit<HistoryEntry, 'id'>);
      ledger.applied(runner, batch, list.length, at);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  // A client that sends headers or a body slowly cannot hold a connection open forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${host}:${opts.port ?? 0}`;
      if (e.code === 'EADDRINUSE') reject(new EnvironmentError(`the history sink cannot listen on ${where}: the port is in use; free it or pick another with --sink-listen HOST:PORT`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new EnvironmentError(`the history sink cannot listen on ${where}: no such address on this machine; use 0.0.0.0 or one of its interfaces`));
      else if (e.code === 'EACCES') reject(new EnvironmentError(`the history sink cannot listen on ${where}: permission denied (ports below 1024 need privileges); pick a port above 1024`));
      else reject(e);
    });
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port, address, family } = server.address() as AddressInfo;
  // A wildcard address is where it listens, not where a runner on this machine can reach it.
  const reach = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  const base = `http://${reach}:${port}/runs/${encodeURIComponent(runId)}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `${base}/history`,
    metricsUrl: `${base}/metrics`,
    token,
    runId,
    listen: `${family === 'IPv6' ? `[${address}]` : address}:${port}`,
    runnerEnv: () => ({ [SINK_ENV.url]: `${base}/history`, [SINK_ENV.token]: token }),
    get received() {
      return ledger.stats.entries;
    },
    get rejected() {
      return Object.values(ledger.stats.rejected).reduce((a, b) => a + b, 0);
    },
    stats: () => structuredClone(ledger.stats),
    runners: () => ledger.list(),
    expectRunner: (id) => ledger.expect(id),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** 413 at once, then the connection is closed: the rest of an oversized body is not read. */
function tooLarge(req: http.IncomingMessage, res: http.ServerResponse, maxBytes: number, refuse: (res: http.ServerResponse, status: number, reason: Rejection, message: string) => void): void {
  res.setHeader('connection', 'close');
  refuse(res, 413, 'too-large', `batch body exceeds the sink's limit of ${maxBytes} bytes: send smaller batches`);
  res.once('finish', () => req.destroy());
  req.resume();
}
