/**
 * What a toxic is, and the registry of toxics by name (Toxiproxy's toxics/toxic.go).
 *
 * A toxic is a value — `{name, type, stream, toxicity, attributes}` on the API — and its behaviour
 * is one function, `pipe(attributes, stub)`, that returns the handlers of one stage of one
 * direction of one connection:
 *
 *            Toxic
 *              v
 *   Client <-> stage <-> Upstream
 *
 * Stages are event driven rather than goroutines: `data` and `end` arrive from the previous stage,
 * and the stage forwards with `stub.push` / `stub.close`. `interrupt` is how a toxic is removed
 * or updated on a live connection: it must forward everything it holds, synchronously, so no
 * accepted byte is dropped and nothing is reordered. Optional abilities are optional members
 * (`newState` = Toxiproxy's StatefulToxic, `cleanup` = CleanupToxic).
 */
import type { Random } from '../../src/base/random.ts';

/** What a stage may do with the stream it sits on. */
export interface ToxicStub {
  /** Forward bytes to the next stage. */
  push(chunk: Buffer): void;
  /** End this direction after everything pushed so far (Toxiproxy's stub.Close()). */
  close(): void;
  /** Abort the whole connection with a TCP RST on both sides (reset_peer). */
  reset(): void;
  /** Account for bytes this stage accepted and will never forward (timeout, limit_data). */
  discard(bytes: number): void;
  /** A timer that dies with the stage (on interrupt or when the connection closes). */
  after(ms: number, fn: () => void): () => void;
  /** Per-connection state from `newState`, kept across attribute updates. */
  readonly state: unknown;
  readonly random: Random;
}

/** One stage's handlers, returned by `pipe`. */
export interface Stage {
  data(chunk: Buffer): void;
  end(): void;
  /** Forward everything held now, synchronously, and stop (timers are cancelled by the stub). */
  interrupt(): void;
}

/** Attribute kinds as Toxiproxy's Go structs declare them; all are integers. */
export type AttributeKind = 'int64' | 'int';

export interface ToxicDefinition<A extends Record<string, number> = Record<string, number>> {
  /** The `type` on the API. */
  readonly type: string;
  /** Attribute names in Toxiproxy's JSON order, with their zero values (Go's defaults). */
  readonly attributes: { readonly [K in keyof A]: AttributeKind };
  /** The Go struct name, used in error messages as Toxiproxy words them. */
  readonly goName: string;
  pipe(attributes: A, stub: ToxicStub): Stage;
  newState?(): unknown;
  /** Called when the toxic is removed from a live connection, after `interrupt`. */
  cleanup?(stub: ToxicStub): void;
}

const registry = new Map<string, ToxicDefinition>();

export function registerToxic<A extends Record<string, number>>(definition: ToxicDefinition<A>): void {
  registry.set(definition.type, definition as unknown as ToxicDefinition);
}

export function toxicDefinition(type: string): ToxicDefinition | undefined {
  return registry.get(type);
}

export function toxicTypes(): string[] {
  return [...registry.keys()];
}

/** A stage that forwards as it receives: the fast, synchronous case. */
export function passThrough(stub: ToxicStub): Stage {
  return { data: (c) => stub.push(c), end: () => stub.close(), interrupt: () => {} };
}
