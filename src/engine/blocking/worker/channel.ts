/**
 * The worker's end of the protocol (../protocol.ts): posting to the host, the blocking call, async
 * calls, and the VU's pending work (timers, async calls), which keeps an iteration open as k6's
 * event loop does.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { abortError, CTL, fromWire, type IterationContext, type Up, type WireError } from '../protocol.ts';

export class Channel {
  readonly ctl: Int32Array;
  /** The running iteration's context (the init context's before the first). */
  ctx: IterationContext = {
    iter: 0, iterationInInstance: 0, iterationInScenario: 0, iterationInTest: 0, scenarioIterationInInstance: 0, vuIdInTest: 0,
    scenario: { name: '', executor: '', startTime: 0 }, lagMs: 0, epoch: 0, startMs: 0,
  };
  /** True while the init code runs: the host is blocked waiting for it, so nothing may wait on the host. */
  inInit = true;
  private pending = 0;
  private idle: (() => void) | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  /** The VU's tags as last sent to the host (samples are tagged on the host). */
  private sentTags = '';

  constructor(
    ctl: SharedArrayBuffer,
    private readonly up: MessagePort,
    private readonly down: MessagePort,
    private readonly tags: () => Record<string, string>,
  ) {
    this.ctl = new Int32Array(ctl);
  }

  post(m: Up): void {
    this.syncTags();
    this.up.postMessage(m);
  }

  /** Blocks this VU until the host answers `op` (a request, a socket's lifetime...). */
  call(op: string, ...args: unknown[]): unknown {
    if (this.inInit) throw new Error(`${op}: making requests in the init context is not supported (k6 refuses it too); move it into a function`);
    this.checkInterrupt();
    Atomics.store(this.ctl, CTL.REPLY, 0);
    this.post({ t: 'sync', op, args });
    while (Atomics.load(this.ctl, CTL.REPLY) === 0) Atomics.wait(this.ctl, CTL.REPLY, 0);
    const m = receiveMessageOnPort(this.down)?.message as { value?: unknown; error?: WireError } | undefined;
    if (m === undefined) throw new Error(`${op}: the engine sent no answer (internal error)`);
    if (m.error) throw fromWire(m.error);
    return m.value;
  }

  /** Sends `op` without blocking; the iteration stays open until the answer is in. */
  callAsync(op: string, ...args: unknown[]): Promise<unknown> {
    if (this.inInit) return Promise.reject(new Error(`${op}: making requests in the init context is not supported`));
    const id = this.nextId++;
    this.hold();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ t: 'async', id, op, args });
    });
  }

  answer(id: number, value: unknown, error: WireError | undefined): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if (error) w.reject(fromWire(error));
    else w.resolve(value);
    this.release();
  }

  /** Throws an AbortError when the host has interrupted this iteration. */
  checkInterrupt(): void {
    if (Atomics.load(this.ctl, CTL.EPOCH) !== this.ctx.epoch) throw abortError();
  }

  /** k6's sleep: this VU's thread waits; an interrupt wakes it early. */
  sleep(ms: number): void {
    if (this.inInit) throw new Error('sleep() is not supported in the init context');
    const end = performance.now() + ms;
    for (let left = ms; left > 0; left = end - performance.now()) {
      this.checkInterrupt();
      Atomics.wait(this.ctl, CTL.SLEEP, 0, left);
    }
    this.checkInterrupt();
  }

  hold(): void {
    this.pending++;
  }

  release(): void {
    if (--this.pending <= 0 && this.idle) {
      const d = this.idle;
      this.idle = undefined;
      d();
    }
  }

  /** Resolves once no timer or async call of this VU is pending. */
  async drained(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((r) => (this.idle = r));
  }

  /** Drops the answers still awaited (the iteration they belonged to was interrupted). */
  forgetPending(): void {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.reject(abortError());
    }
    this.pending = 0;
  }

  private syncTags(): void {
    const t = this.tags();
    let sig = '';
    for (const k in t) sig += `\u0001${k}\u0002${t[k]}`;
    if (sig === this.sentTags) return;
    this.sentTags = sig;
    this.up.postMessage({ t: 'tags', tags: { ...t } } satisfies Up);
  }
}
