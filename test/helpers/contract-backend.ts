/**
 * A tiny, correct and fast backend speaking the contract (DESIGN.md "The backend contract") from
 * memory, on 127.0.0.1 port 0: every read is strong, appends are atomic and idempotent, If-Match
 * is honoured, the window is the last `windowTurns` turns. It answers as fast as the event loop
 * lets it, far faster than the reference service, which is what the crash-free test needs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContractBackend {
  url: string;
  /** Requests answered so far. */
  readonly answered: number;
  close(): Promise<void>;
}

interface Session {
  turns: Array<{ turnId: string; user: string; assistant: string }>;
  ids: Set<string>;
  revision: number;
  bytes: number;
}

export async function startContractBackend(opts: { windowTurns?: number } = {}): Promise<ContractBackend> {
  const windowTurns = opts.windowTurns ?? 10;
  const sessions = new Map<string, Session>();
  const counts = { requests: 0, conflicts: 0, saves: 0, savedBytes: 0, created: 0 };
  const send = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'x-state-mode': 'normal' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const problem = (res: http.ServerResponse, status: number, code: string) => send(res, status, { type: 'about:blank', title: code, status, code, mode: 'normal' }, 'application/problem+json');

  const server = http.createServer((req, res) => {
    counts.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz' || url.pathname === '/readyz') return send(res, 200, { ok: true });
    if (url.pathname === '/metrics') return send(res, 200, metricsText(counts), 'text/plain; version=0.0.4');
    const m = /^\/v1\/sessions\/([^/]+)(\/turns)?$/.exec(url.pathname);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!m) return problem(res, 404, 'not_found');
    if (!token) return problem(res, 401, 'unauthorized');
    const key = `${token}\u0000${decodeURIComponent(m[1]!)}`;
    const sessionId = decodeURIComponent(m[1]!);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = sessions.get(key);
      if (req.method === 'GET' && !m[2]) {
        if (!s) return problem(res, 404, 'not_found');
        return send(res, 200, { sessionId, revision: s.revision, schemaVersion: 3, turnCount: s.revision, turns: s.turns.slice(-windowTurns), summary: '', bytes: s.bytes, mode: 'normal' });
      }
      if (req.method === 'DELETE' && !m[2]) {
        sessions.delete(key);
        res.writeHead(204, { 'x-state-mode': 'normal' }).end();
        return;
      }
      if (req.method !== 'POST' || !m[2]) return problem(res, 405, 'method_not_allowed');
      let body: { turnId?: unknown; content?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return problem(res, 400, 'bad_request');
      }
      if (typeof body.turnId !== 'string' || typeof body.content !== 'string') return problem(res, 400, 'bad_request');
      const session = s ?? { turns: [], ids: new Set<string>(), revision: 0, bytes: 0 };
      const answer = (applied: boolean) => send(res, 200, { sessionId, revision: session.revision, schemaVersion: 3, turnCount: session.revision, applied, reply: 'ok', mode: 'normal' });
      if (session.ids.has(body.turnId)) return answer(false);
      const ifMatch = req.headers['if-match'];
      if (ifMatch !== undefined && Number(ifMatch) !== session.revision) {
        counts.conflicts++;
        return problem(res, 409, 'revision_conflict');
      }
      if (!s) {
        sessions.set(key, session);
        counts.created++;
      }
      session.turns.push({ turnId: body.turnId, user: body.content, assistant: 'ok' });
      // The window is all a read returns: older turns are "compacted" (dropped) as the contract allows.
      if (session.turns.length > 2 * windowTurns) session.turns = session.turns.slice(-windowTurns);
      session.ids.add(body.turnId);
      session.revision++;
      session.bytes = session.turns.slice(-windowTurns).reduce((n, t) => n + t.user.length + t.assistant.length, 0);
      counts.saves++;
      counts.savedBytes += session.bytes;
      answer(true);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get answered() {
      return counts.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function metricsText(c: { requests: number; conflicts: number; saves: number; savedBytes: number; created: number }): string {
  return [
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${Math.floor(Date.now() / 1000 - process.uptime())}`,
    '# TYPE stateproof_state_op_duration_seconds histogram',
    `stateproof_state_op_duration_seconds_bucket{op="save",le="+Inf"} ${c.saves}`,
    `stateproof_state_op_duration_seconds_sum{op="save"} 0`,
    `stateproof_state_op_duration_seconds_count{op="save"} ${c.saves}`,
    '# TYPE stateproof_state_size_bytes histogram',
    `stateproof_state_size_bytes_bucket{le="+Inf"} ${c.saves}`,
    `stateproof_state_size_bytes_sum ${c.savedBytes}`,
    `stateproof_state_size_bytes_count ${c.saves}`,
    '# TYPE stateproof_state_conflicts_total counter',
    `stateproof_state_conflicts_total ${c.conflicts}`,
    '# TYPE stateproof_state_cache_total counter',
    `stateproof_state_cache_total{result="miss"} 0`,
    '# TYPE stateproof_state_lifecycle_events_total counter',
    `stateproof_state_lifecycle_events_total{event="create"} ${c.created}`,
    '# TYPE stateproof_breaker_state gauge',
    'stateproof_breaker_state 0',
    '# TYPE stateproof_degraded_responses_total counter',
    'stateproof_degraded_responses_total 0',
    '# TYPE stateproof_http_requests_total counter',
    `stateproof_http_requests_total ${c.requests}`,
    '',
  ].join('\n');
}
