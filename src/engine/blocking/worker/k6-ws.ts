/**
 * `k6/ws` inside a blocking VU's worker: ws.connect() blocks the VU for the whole session, as in
 * k6. It runs the socket's own event loop here: it asks the host (../ws-host.ts) for the next
 * event with a blocking call that also ends when the socket's next timer is due, and calls the
 * script's handlers. The socket itself and the ws metrics live on the host.
 */
import type { WsEvent, WsResponse } from '../ws-host.ts';
import type { Channel } from './channel.ts';

type Handler = (...args: unknown[]) => void;

/** k6's close code when the script ends the session without one (websocket.CloseGoingAway). */
const GOING_AWAY = 1001;

class Socket {
  private readonly handlers = new Map<string, Handler[]>();
  private readonly timers: Array<{ at: number; fn: () => void; everyMs?: number; id: number }> = [];
  private nextTimer = 1;
  closed = false;

  constructor(
    private readonly ch: Channel,
    private readonly id: number,
  ) {}

  on(event: string, handler: Handler): void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler);
    this.handlers.set(event, list);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const h of this.handlers.get(event) ?? []) h(...args);
  }

  send(data: unknown): void {
    this.ch.call('ws', 'send', this.id, String(data));
  }

  sendBinary(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) throw new Error(`expected ArrayBuffer as argument, received: ${typeof data}`);
    this.ch.call('ws', 'send', this.id, data);
  }

  ping(): void {
    this.ch.call('ws', 'ping', this.id);
  }

  close(code?: number): void {
    if (this.closed) return;
    this.closed = true;
    const c = code === undefined ? GOING_AWAY : Math.trunc(Number(code));
    this.ch.call('ws', 'close', this.id, c);
    this.emit('close', c);
  }

  setTimeout(fn: () => void, ms: number): void {
    this.timers.push({ at: performance.now() + Number(ms), fn, id: this.nextTimer++ });
  }

  setInterval(fn: () => void, ms: number): void {
    const every = Math.max(1, Number(ms));
    this.timers.push({ at: performance.now() + every, fn, everyMs: every, id: this.nextTimer++ });
  }

  /** Runs the session until it closes. */
  loop(): void {
    while (!this.closed) {
      this.runDueTimers();
      if (this.closed) return;
      const next = this.timers.reduce((a, t) => Math.min(a, t.at), Infinity);
      const waitMs = next === Infinity ? -1 : Math.max(0, Math.ceil(next - performance.now()));
      const e = this.ch.call('ws', 'next', this.id, waitMs) as WsEvent;
      this.dispatch(e);
    }
  }

  private dispatch(e: WsEvent): void {
    switch (e.type) {
      case 'message':
      case 'binaryMessage':
        this.emit(e.type, e.data);
        return;
      case 'ping':
      case 'pong':
        this.emit(e.type);
        return;
      case 'error':
        this.emit('error', { error: () => e.message });
        return;
      case 'close':
        if (this.closed) return;
        this.closed = true;
        this.ch.call('ws', 'close', this.id, e.code);
        this.emit('close', e.code);
        return;
      case 'timeout':
        return;
    }
  }

  private runDueTimers(): void {
    const now = performance.now();
    for (const t of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (t.at > now || this.closed) break;
      if (t.everyMs !== undefined) t.at += t.everyMs;
      else this.timers.splice(this.timers.indexOf(t), 1);
      t.fn();
    }
  }
}

export function createWs(ch: Channel) {
  return {
    connect(url: string, paramsOrFn?: unknown, maybeFn?: unknown): WsResponse {
      const fn = (typeof paramsOrFn === 'function' ? paramsOrFn : maybeFn) as ((s: Socket) => void) | undefined;
      const params = typeof paramsOrFn === 'function' ? null : (paramsOrFn ?? null);
      if (typeof fn !== 'function') throw new Error('last argument to ws.connect must be a function');
      const { id, response } = ch.call('ws', 'open', url, params) as { id?: number; response: WsResponse };
      if (id === undefined) return response;
      const socket = new Socket(ch, id);
      try {
        fn(socket);
        socket.emit('open');
        socket.loop();
      } catch (e) {
        if (!socket.closed) {
          socket.closed = true;
          ch.call('ws', 'close', id, GOING_AWAY);
        }
        throw e;
      }
      return response;
    },
  };
}
