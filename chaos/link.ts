/**
 * One direction of one proxied connection, and the connection that owns two of them.
 *
 *   upstream link:    client socket ──> [stage] ─> [stage] ─> sink ──> upstream socket
 *   downstream link:  upstream socket ─> [stage] ─> [stage] ─> sink ──> client socket
 *
 * Fast path: while every stage passes through (no toxic on this stream, or toxicity said no for
 * this connection), each read (from the shared read buffer, ./shared-read.ts) goes straight to
 * dest.write(), with the same backpressure as stream.pipe() (pause the source when dest is
 * full, resume on 'drain'), and no Readable or 'data' event in between. Adding a toxic appends a
 * stage and flips the link to the chain on the very next chunk — there is nothing in flight to
 * reorder, because stages are synchronous event handlers, not queues between threads. Removing one interrupts the stage,
 * which forwards everything it holds synchronously (so no accepted byte is lost and the API
 * call never waits on traffic), then rewires its neighbour past it.
 *
 * Backpressure on the chain path: bytes held by stages are counted; above HIGH_WATER the source
 * is paused (TCP pushes back on the sender), below LOW_WATER it resumes.
 *
 * End of stream: as in Toxiproxy, one direction ending closes the socket it writes to, and that
 * ends the other direction's input too (no half-open connections).
 */
import type { Socket } from 'node:net';
import type { Random } from '../src/base/random.ts';
import type { Stage, ToxicDefinition, ToxicStub } from './toxics/toxic.ts';

export type Direction = 'upstream' | 'downstream';

/** A toxic as the collection holds it: the API value plus its resolved definition. */
export interface ToxicEntry {
  name: string;
  type: string;
  stream: string;
  direction: Direction;
  toxicity: number;
  attributes: Record<string, number>;
  definition: ToxicDefinition;
}

const HIGH_WATER_BYTES = 256 * 1024;
const LOW_WATER_BYTES = 64 * 1024;
/** A peer that never reads must not keep a closed connection's socket forever. */
const END_GRACE_MS = 10_000;

interface Receiver {
  write(chunk: Buffer): void;
  end(): void;
}

class StageRuntime implements ToxicStub, Receiver {
  next: Receiver;
  active: boolean;
  handlers: Stage;
  readonly state: unknown;
  gotEnd = false;
  closed = false;
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly link: Link,
    public entry: ToxicEntry,
    next: Receiver,
  ) {
    this.next = next;
    this.state = entry.definition.newState?.();
    this.active = this.rollToxicity();
    this.handlers = this.makeHandlers();
  }

  get random(): Random {
    return this.link.conn.random;
  }

  /** Whether the toxic applies to this connection is decided once (and again only if toxicity changes). */
  private rollToxicity(): boolean {
    return this.entry.toxicity >= 1 || this.random() < this.entry.toxicity;
  }

  private makeHandlers(): Stage {
    return this.active ? this.entry.definition.pipe(this.entry.attributes, this) : { data: (c) => this.push(c), end: () => this.close(), interrupt: () => {} };
  }

  get passThrough(): boolean {
    return !this.active || this.entry.type === 'noop';
  }

  // From the previous stage.
  write(chunk: Buffer): void {
    if (this.closed) this.link.discard(chunk.length);
    else this.handlers.data(chunk);
  }
  end(): void {
    if (this.closed || this.gotEnd) return;
    this.gotEnd = true;
    this.handlers.end();
  }

  // ToxicStub, for the toxic.
  push(chunk: Buffer): void {
    if (this.closed) this.link.discard(chunk.length);
    else this.next.write(chunk);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.next.end();
  }
  reset(): void {
    this.link.conn.reset();
  }
  discard(bytes: number): void {
    this.link.discard(bytes);
  }
  after(ms: number, fn: () => void): () => void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  interrupt(): void {
    this.clearTimers();
    if (!this.closed) this.handlers.interrupt();
  }

  update(entry: ToxicEntry): void {
    this.interrupt();
    const toxicityChanged = entry.toxicity !== this.entry.toxicity;
    this.entry = entry;
    if (toxicityChanged) this.active = this.rollToxicity();
    if (this.closed) return;
    this.handlers = this.makeHandlers();
    if (this.gotEnd) this.handlers.end();
  }

  /** Detach for removal: flush, run cleanup, pass on a pending end. */
  remove(): void {
    this.interrupt();
    if (this.active && !this.closed) this.entry.definition.cleanup?.(this);
    if (this.gotEnd && !this.closed) this.close();
    this.clearTimers();
    this.closed = true;
  }
}

export class Link {
  private stages: StageRuntime[] = [];
  private fast = true;
  private heldBytes = 0;
  private finished = false;
  private inputDone = false;
  private pausedByDest = false;
  private pausedByChain = false;
  private readonly sink: Receiver = { write: (c) => this.sinkWrite(c), end: () => this.sinkEnd() };

  constructor(
    readonly conn: Connection,
    readonly direction: Direction,
    readonly source: Socket,
    readonly dest: Socket,
    entries: ToxicEntry[],
  ) {
    for (const e of entries) this.addToxic(e);
    source.on('end', () => this.inputEnd());
    source.on('close', () => this.inputEnd());
    dest.on('drain', () => this.resume('dest'));
  }

  /** One read of the source (a chunk of its own: see ./shared-read.ts). */
  readonly receive = (chunk: Buffer): void => {
    if (this.finished) return;
    if (this.fast) {
      if (!this.dest.write(chunk)) this.pause('dest');
      return;
    }
    this.heldBytes += chunk.length;
    this.stages[0]!.write(chunk);
    if (this.heldBytes > HIGH_WATER_BYTES) this.pause('chain');
  };

  inputEnd(): void {
    if (this.inputDone) return;
    this.inputDone = true;
    (this.stages[0] ?? this.sink).end();
  }

  private sinkWrite(chunk: Buffer): void {
    this.discard(chunk.length);
    if (this.finished) return;
    if (!this.dest.write(chunk)) this.pause('dest');
  }

  private sinkEnd(): void {
    if (this.finished) return;
    this.finished = true;
    endSocket(this.dest);
    this.conn.linkFinished(this);
  }

  discard(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
    if (this.pausedByChain && this.heldBytes < LOW_WATER_BYTES) this.resume('chain');
  }

  private pause(reason: 'dest' | 'chain'): void {
    if (reason === 'dest') this.pausedByDest = true;
    else this.pausedByChain = true;
    this.source.pause();
  }

  private resume(reason: 'dest' | 'chain'): void {
    if (reason === 'dest') this.pausedByDest = false;
    else this.pausedByChain = false;
    if (!this.pausedByDest && !this.pausedByChain && !this.finished) this.source.resume();
  }

  private relink(): void {
    for (let i = 0; i < this.stages.length; i++) this.stages[i]!.next = this.stages[i + 1] ?? this.sink;
    this.fast = this.stages.every((s) => s.passThrough);
  }

  addToxic(entry: ToxicEntry): void {
    // Appended last: an end still travelling through earlier stages reaches it in order, and if
    // the sink already ended, the link is finished and the stage never sees traffic.
    this.stages.push(new StageRuntime(this, entry, this.sink));
    this.relink();
  }

  updateToxic(entry: ToxicEntry): void {
    this.stages.find((s) => s.entry.name === entry.name)?.update(entry);
    this.relink();
  }

  removeToxic(name: string): void {
    const i = this.stages.findIndex((s) => s.entry.name === name);
    if (i < 0) return;
    const stage = this.stages[i]!;
    // Rewire first so what the stage flushes on interrupt already flows past it, to its successor.
    stage.next = this.stages[i + 1] ?? this.sink;
    this.stages.splice(i, 1);
    this.relink();
    stage.remove();
  }

  stop(): void {
    this.finished = true;
    for (const s of this.stages) {
      s.clearTimers();
      s.closed = true;
    }
  }
}

/** The two links of one client connection. */
export class Connection {
  readonly up: Link;
  readonly down: Link;
  private closedCount = 0;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    chains: Record<Direction, ToxicEntry[]>,
    readonly random: Random,
    private readonly onClosed: (c: Connection) => void,
  ) {
    this.up = new Link(this, 'upstream', client, upstream, chains.upstream);
    this.down = new Link(this, 'downstream', upstream, client, chains.downstream);
    const closed = () => {
      if (++this.closedCount === 2) {
        this.up.stop();
        this.down.stop();
        this.onClosed(this);
      }
    };
    client.once('close', closed);
    upstream.once('close', closed);
  }

  link(direction: Direction): Link {
    return direction === 'upstream' ? this.up : this.down;
  }

  /** One direction closed the socket it writes to: the other direction's input is gone too. */
  linkFinished(link: Link): void {
    (link === this.up ? this.down : this.up).inputEnd();
  }

  /** TCP RST on both sides (SO_LINGER 0), as Toxiproxy's reset_peer does. */
  reset(): void {
    this.up.stop();
    this.down.stop();
    for (const s of [this.client, this.upstream]) if (!s.destroyed) s.resetAndDestroy();
  }

  destroy(): void {
    this.up.stop();
    this.down.stop();
    this.client.destroy();
    this.upstream.destroy();
  }
}

function endSocket(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
}
