/**
 * k6/ws on the main thread, for a blocking VU: the VU's sockets (the `ws` package), the queue of
 * what each received, and k6's ws metrics (ws_sessions and ws_connecting at the handshake, even a
 * failed one; ws_msgs_sent, ws_msgs_received, ws_ping; ws_session_duration when the session ends),
 * tagged with the VU's tags, params.tags, url, status and subproto as k6 tags them.
 *
 * The worker's ws.connect() loop (./worker/k6-ws.ts) asks for the next event with a blocking call;
 * the answer comes when something arrives or when its next socket timer is due.
 */
import WebSocket from 'ws';
import type { Tags } from '../metrics/registry.ts';
import type { VU } from '../vu.ts';
import { defineWsMetrics, type WsMetrics } from './ws-metrics.ts';

export type WsEvent =
  | { type: 'message'; data: string }
  | { type: 'binaryMessage'; data: ArrayBuffer }
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'error'; message: string }
  | { type: 'close'; code: number }
  | { type: 'timeout' };

export interface WsResponse {
  url: string;
  status: number;
  status_text: string;
  headers: Record<string, string>;
  body: string;
  error: string;
}

interface Session {
  ws: WebSocket;
  tags: Tags;
  startedMs: number;
  queue: WsEvent[];
  waiter: ((e: WsEvent) => void) | undefined;
  pings: Map<string, number>;
  pingCounter: number;
  ended: boolean;
}

/** How long a handshake may take (k6: 60 s). */
const HANDSHAKE_TIMEOUT_MS = 60_000;

export class WsSessions {
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private readonly m: WsMetrics;

  constructor(private readonly vu: VU) {
    this.m = defineWsMetrics(vu.run.registry);
  }

  /** Opens a socket; resolves with its id once the handshake is done (no id when it failed). */
  open(url: string, params: { headers?: Record<string, string>; tags?: Record<string, string> } | null): Promise<{ id?: number; response: WsResponse }> {
    const tags: Tags = { ...this.vu.sampleTags(), ...(params?.tags ?? {}), url };
    const start = performance.now();
    const startedMs = Date.now();
    const headers = Object.fromEntries(Object.entries(params?.headers ?? {}).map(([k, v]) => [k, String(v)]));
    const tls = this.vu.run.tls;
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ...(tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) });
      const response: WsResponse = { url, status: 0, status_text: '', headers: {}, body: '', error: '' };
      const handshake = (status: number, statusText: string, raw: Record<string, string | string[] | undefined>) => {
        response.status = status;
        response.status_text = `${status} ${statusText}`.trim();
        for (const [k, v] of Object.entries(raw)) if (v !== undefined) response.headers[k.replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase())] = Array.isArray(v) ? v.join(', ') : v;
        tags.status = String(status);
        tags.subproto = typeof raw['sec-websocket-protocol'] === 'string' ? raw['sec-websocket-protocol'] : '';
      };
      const connected = () => {
        const reg = this.vu.run.registry;
        reg.add(this.m.sessions, 1, tags);
        reg.add(this.m.connecting, performance.now() - start, tags);
      };
      ws.once('upgrade', (res) => handshake(res.statusCode ?? 101, res.statusMessage ?? 'Switching Protocols', res.headers));
      ws.once('unexpected-response', (_req, res) => {
        handshake(res.statusCode ?? 0, res.statusMessage ?? '', res.headers);
        response.error = 'websocket: bad handshake';
        res.resume();
        ws.terminate();
      });
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        connected();
        response.error ||= message;
        this.vu.run.registry.add(this.m.duration, Date.now() - startedMs, tags);
        resolve({ response });
      };
      ws.once('error', (e) => fail(e.message));
      ws.once('close', () => fail('websocket: bad handshake'));
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        connected();
        const id = this.nextId++;
        const s: Session = { ws, tags, startedMs, queue: [], waiter: undefined, pings: new Map(), pingCounter: 0, ended: false };
        this.sessions.set(id, s);
        ws.on('message', (data, isBinary) => {
          this.vu.run.registry.add(this.m.received, 1, tags);
          const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
          this.push(s, isBinary ? { type: 'binaryMessage', data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer } : { type: 'message', data: buf.toString('utf8') });
        });
        ws.on('ping', () => this.push(s, { type: 'ping' }));
        ws.on('pong', (data) => {
          const sent = s.pings.get(data.toString());
          if (sent !== undefined) this.vu.run.registry.add(this.m.ping, performance.now() - sent, tags);
          this.push(s, { type: 'pong' });
        });
        ws.on('error', (e) => this.push(s, { type: 'error', message: e.message }));
        ws.on('close', (code) => this.push(s, { type: 'close', code }));
        resolve({ id, response });
      });
    });
  }

  /** The socket's next event, or `timeout` after `waitMs` (negative: no timer pending, wait as long as it takes). */
  next(id: number, waitMs: number): Promise<WsEvent> {
    const s = this.sessions.get(id);
    if (!s) return Promise.resolve({ type: 'close', code: 1006 });
    const queued = s.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = waitMs >= 0 ? setTimeout(() => {
        s.waiter = undefined;
        resolve({ type: 'timeout' });
      }, waitMs) : undefined;
      s.waiter = (e) => {
        if (timer) clearTimeout(timer);
        resolve(e);
      };
    });
  }

  send(id: number, data: string | ArrayBuffer): void {
    const s = this.sessions.get(id);
    if (!s || s.ws.readyState !== WebSocket.OPEN) return;
    s.ws.send(typeof data === 'string' ? data : Buffer.from(data));
    this.vu.run.registry.add(this.m.sent, 1, s.tags);
  }

  ping(id: number): void {
    const s = this.sessions.get(id);
    if (!s || s.ws.readyState !== WebSocket.OPEN) return;
    const pingId = String(s.pingCounter++);
    s.pings.set(pingId, performance.now());
    s.ws.ping(pingId);
  }

  /** Ends the session (the script closed it, or the server did): close frame, session duration. */
  close(id: number, code: number): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    if (!s.ended) {
      s.ended = true;
      this.vu.run.registry.add(this.m.duration, Date.now() - s.startedMs, s.tags);
    }
    try {
      if (s.ws.readyState === WebSocket.OPEN) s.ws.close(code);
      else s.ws.terminate();
    } catch {
      s.ws.terminate(); // a code the protocol does not let a client send
    }
    s.waiter?.({ type: 'close', code });
  }

  /** The VU was interrupted: every socket ends now. */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id, 1001);
  }

  private push(s: Session, e: WsEvent): void {
    const w = s.waiter;
    if (w) {
      s.waiter = undefined;
      w(e);
    } else s.queue.push(e);
  }
}
