/**
 * Where history entries end up: a recorder that numbers them in arrival order, and an HTTP sink on
 * loopback that real k6's VUs POST their batches to (scenarios/lib/history.ts). Under the built-in
 * engine the same recorder is handed to runScript({ history }) and fed in-process.
 *
 *   k6 VU ──POST [entries] (JSON)──> sink ──> recorder.record(entry) ──> entries[] with ids
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HistoryEntry } from './history.ts';

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

export interface HistorySinkServer {
  /** POST a JSON array of entries here (STATEPROOF_HISTORY_URL). */
  url: string;
  /** Entries received so far. */
  readonly received: number;
  /** Batches refused (bad JSON or shape); their entries were not recorded. */
  readonly rejected: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const REQUIRED = ['op', 'session', 'intendedStartMs', 'startMs', 'endMs', 'outcome', 'status', 'vu'] as const;

function isEntry(x: unknown): x is Omit<HistoryEntry, 'id'> {
  if (!x || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  return REQUIRED.every((k) => o[k] !== undefined);
}

export async function startHistorySink(recorder: HistoryRecorderLike, opts: { host?: string; port?: number } = {}): Promise<HistorySinkServer> {
  let received = 0;
  let rejected = 0;
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let batch: unknown;
      try {
        batch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        rejected++;
        res.writeHead(400, { 'content-type': 'text/plain' }).end('body must be a JSON array of history entries');
        return;
      }
      const list = Array.isArray(batch) ? batch : [batch];
      if (!list.every(isEntry)) {
        rejected++;
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`each entry needs ${REQUIRED.join(', ')}`);
        return;
      }
      for (const e of list) recorder.record(e);
      received += list.length;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://${address}:${port}/history`,
    get received() {
      return received;
    },
    get rejected() {
      return rejected;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
